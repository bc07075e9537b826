//! Unit tests of [`Policy::decide`], budgets through the policy, and [`Decision`] output.
#![allow(clippy::unwrap_used)]

use super::*;

/// Seconds → Instant.
fn s(secs: u64) -> Instant {
    Instant(secs * 1_000_000)
}

/// [`PolicyConfig::DEFAULT`] (report 0.5 / clear 0.4 / act 0.7 / escalate 0.9; report
/// cooldown 60 s, escalation cooldown 600 s) without budget limits.
fn cfg() -> PolicyConfig {
    PolicyConfig {
        budget: BudgetLimits::UNLIMITED,
        tokens_per_call: 100,
        ..PolicyConfig::DEFAULT
    }
}

#[test]
fn the_tests_run_on_the_documented_thresholds_and_cooldowns() {
    let c = cfg();
    let t = c.thresholds;
    assert_eq!(
        [t.report_on, t.clear_below, t.act_locally_on, t.escalate_on],
        [0.5, 0.4, 0.7, 0.9]
    );
    assert_eq!((c.report_cooldown_s, c.escalate_cooldown_s), (60, 600));
}

fn policy() -> Policy {
    Policy::new(cfg()).unwrap()
}

fn ad(d: Decision) -> (Action, Reason) {
    (d.action, d.reason)
}

use Action::*;
use Link::{Offline, Online};

#[test]
fn below_report_on_without_episode_is_ignored() {
    let mut p = policy();
    assert_eq!(
        ad(p.decide(s(0), 0.49, Online)),
        (Ignore, Reason::BelowThreshold)
    );
    assert!(!p.in_episode());
}

#[test]
fn nan_score_is_ignored_and_leaves_the_episode_alone() {
    let mut p = policy();
    assert_eq!(
        ad(p.decide(s(0), f32::NAN, Online)),
        (Ignore, Reason::InvalidScore)
    );
    p.decide(s(1), 0.6, Online);
    assert_eq!(
        ad(p.decide(s(2), f32::NAN, Online)),
        (Ignore, Reason::InvalidScore)
    );
    assert!(p.in_episode());
}

#[test]
fn scores_outside_unit_range_are_clamped() {
    let mut p = policy();
    let d = p.decide(s(0), 7.0, Online);
    assert_eq!((d.action, d.score), (Escalate, 1.0));
    let d = p.decide(s(1), -3.0, Online);
    assert_eq!((ad(d), d.score), ((Report, Reason::EpisodeEnd), 0.0));
}

#[test]
fn reaching_report_on_starts_an_episode_with_a_report() {
    let mut p = policy();
    let d = p.decide(s(0), 0.5, Online);
    assert_eq!(ad(d), (Report, Reason::EpisodeStart));
    assert_eq!((d.score, d.deferred), (0.5, false));
    assert!(p.in_episode());
}

#[test]
fn starting_above_act_locally_on_acts_locally() {
    let mut p = policy();
    assert_eq!(
        ad(p.decide(s(0), 0.75, Online)),
        (ActLocally, Reason::EpisodeStart)
    );
}

#[test]
fn starting_above_escalate_on_escalates() {
    let mut p = policy();
    let d = p.decide(s(0), 0.9, Online);
    assert_eq!(ad(d), (Escalate, Reason::EscalateThreshold));
    assert!(!d.deferred);
}

#[test]
fn hysteresis_keeps_the_episode_between_clear_below_and_report_on() {
    let mut p = policy();
    p.decide(s(0), 0.6, Online);
    // 0.45 < report_on but ≥ clear_below: still in the episode (cooldown holds).
    assert_eq!(
        ad(p.decide(s(10), 0.45, Online)),
        (Ignore, Reason::Cooldown)
    );
    assert_eq!(
        ad(p.decide(s(20), 0.40, Online)),
        (Ignore, Reason::Cooldown)
    );
    assert!(p.in_episode());
    // Past the cooldown a score in the hysteresis band is still reported.
    assert_eq!(
        ad(p.decide(s(61), 0.42, Online)),
        (Report, Reason::StillAnomalous)
    );
}

#[test]
fn falling_under_clear_below_ends_the_episode_once() {
    let mut p = policy();
    p.decide(s(0), 0.6, Online);
    assert_eq!(
        ad(p.decide(s(1), 0.39, Online)),
        (Report, Reason::EpisodeEnd)
    );
    assert!(!p.in_episode());
    assert_eq!(
        ad(p.decide(s(2), 0.39, Online)),
        (Ignore, Reason::BelowThreshold)
    );
    // A new episode starts fresh, without waiting for the old report cooldown.
    assert_eq!(
        ad(p.decide(s(3), 0.6, Online)),
        (Report, Reason::EpisodeStart)
    );
}

#[test]
fn report_cooldown_suppresses_reports_until_it_has_passed() {
    let mut p = policy();
    p.decide(s(0), 0.6, Online);
    let just_before = Instant(60 * 1_000_000 - 1);
    assert_eq!(
        ad(p.decide(just_before, 0.6, Online)),
        (Ignore, Reason::Cooldown)
    );
    assert_eq!(
        ad(p.decide(s(60), 0.6, Online)),
        (Report, Reason::StillAnomalous)
    );
    // The cooldown restarts from the periodic report.
    assert_eq!(
        ad(p.decide(s(100), 0.6, Online)),
        (Ignore, Reason::Cooldown)
    );
    assert_eq!(
        ad(p.decide(s(120), 0.6, Online)),
        (Report, Reason::StillAnomalous)
    );
}

#[test]
fn zero_report_cooldown_reports_every_event() {
    let mut p = Policy::new(PolicyConfig {
        report_cooldown_s: 0,
        ..cfg()
    })
    .unwrap();
    p.decide(s(0), 0.6, Online);
    for t in 1..5 {
        assert_eq!(
            ad(p.decide(s(t), 0.6, Online)),
            (Report, Reason::StillAnomalous)
        );
    }
}

#[test]
fn rising_past_act_locally_on_acts_at_once_and_only_once() {
    let mut p = policy();
    p.decide(s(0), 0.6, Online);
    // Within the report cooldown, but the local response must not wait.
    assert_eq!(
        ad(p.decide(s(5), 0.8, Online)),
        (ActLocally, Reason::ActLocallyThreshold)
    );
    assert_eq!(ad(p.decide(s(6), 0.8, Online)), (Ignore, Reason::Cooldown));
    // Dipping and rising again within the episode does not re-trigger it.
    p.decide(s(7), 0.5, Online);
    assert_eq!(ad(p.decide(s(8), 0.8, Online)), (Ignore, Reason::Cooldown));
    // The report cooldown counts from the local action (5 s), not from the start.
    assert_eq!(ad(p.decide(s(64), 0.8, Online)), (Ignore, Reason::Cooldown));
    assert_eq!(
        ad(p.decide(s(65), 0.8, Online)),
        (Report, Reason::StillAnomalous)
    );
}

#[test]
fn escalation_cooldown_is_separate_from_the_report_cooldown() {
    let mut p = policy();
    assert_eq!(p.decide(s(0), 0.95, Online).action, Escalate);
    // After 60 s a report is due but not another escalation (600 s).
    assert_eq!(
        ad(p.decide(s(60), 0.95, Online)),
        (Report, Reason::StillAnomalous)
    );
    assert_eq!(
        ad(p.decide(s(100), 0.95, Online)),
        (Ignore, Reason::Cooldown)
    );
    assert_eq!(
        ad(p.decide(s(600), 0.95, Online)),
        (Escalate, Reason::EscalateThreshold)
    );
}

#[test]
fn escalation_cooldown_is_per_episode() {
    let mut p = policy();
    assert_eq!(p.decide(s(0), 0.95, Online).action, Escalate);
    assert_eq!(p.decide(s(1), 0.1, Online).reason, Reason::EpisodeEnd);
    assert_eq!(
        ad(p.decide(s(2), 0.95, Online)),
        (Escalate, Reason::EscalateThreshold)
    );
}

#[test]
fn escalating_covers_the_local_response() {
    let mut p = policy();
    p.decide(s(0), 0.95, Online);
    // Falling into the act-locally band does not trigger a second send.
    assert_eq!(ad(p.decide(s(1), 0.8, Online)), (Ignore, Reason::Cooldown));
}

fn limited(calls_per_hour: u32) -> Policy {
    Policy::new(PolicyConfig {
        budget: BudgetLimits {
            calls_per_hour,
            ..BudgetLimits::UNLIMITED
        },
        ..cfg()
    })
    .unwrap()
}

#[test]
fn decide_checks_the_budget_but_counts_nothing() {
    let mut p = limited(1);
    assert_eq!(p.decide(s(0), 0.95, Online).action, Escalate);
    p.decide(s(1), 0.1, Online);
    // Nothing was reserved, so the next episode may escalate too.
    assert_eq!(p.decide(s(2), 0.95, Online).action, Escalate);
    assert_eq!(p.budget().usage(s(2)).0.calls, 0);
}

#[test]
fn exhausted_budget_downgrades_the_escalation_to_the_local_response_first() {
    let mut p = limited(1);
    p.reserve_escalation(s(0)).unwrap();
    let d = p.decide(s(1), 0.95, Online);
    assert_eq!(ad(d), (ActLocally, Reason::BudgetExhausted));
}

#[test]
fn exhausted_budget_downgrades_the_escalation_to_a_report() {
    let mut p = limited(1);
    p.decide(s(0), 0.8, Online); // episode starts, local response engaged
    p.reserve_escalation(s(0)).unwrap(); // spend the hour's single call
    // The downgrade takes the escalation's place: sent at once, despite the
    // report cooldown.
    assert_eq!(
        ad(p.decide(s(1), 0.95, Online)),
        (Report, Reason::BudgetExhausted)
    );
    assert_eq!(ad(p.decide(s(2), 0.95, Online)), (Ignore, Reason::Cooldown));
    // Periodic reports go on; the next escalation attempt waits for its cooldown.
    assert_eq!(
        ad(p.decide(s(61), 0.95, Online)),
        (Report, Reason::StillAnomalous)
    );
    assert_eq!(
        ad(p.decide(s(601), 0.95, Online)),
        (Report, Reason::BudgetExhausted)
    );
}

#[test]
fn escalation_resumes_after_the_hour_window_turns_and_its_cooldown_passed() {
    let mut p = limited(1);
    p.decide(s(3_500), 0.8, Online);
    p.reserve_escalation(s(3_500)).unwrap();
    assert_eq!(
        p.decide(s(3_599), 0.95, Online).reason,
        Reason::BudgetExhausted
    );
    // New hour, but the refused attempt at 3 599 s holds the 600 s cooldown.
    assert_eq!(
        ad(p.decide(s(3_600), 0.95, Online)),
        (Ignore, Reason::Cooldown)
    );
    assert_eq!(
        ad(p.decide(s(4_199), 0.95, Online)),
        (Escalate, Reason::EscalateThreshold)
    );
    assert!(p.reserve_escalation(s(4_199)).is_ok());
}

#[test]
fn tokens_per_call_larger_than_the_token_budget_never_escalates() {
    let mut p = Policy::new(PolicyConfig {
        budget: BudgetLimits {
            tokens_per_day: 99,
            ..BudgetLimits::UNLIMITED
        },
        ..cfg()
    })
    .unwrap();
    assert_eq!(p.decide(s(0), 0.95, Online).reason, Reason::BudgetExhausted);
    assert_eq!(p.reserve_escalation(s(0)), Err(BudgetExhausted));
}

#[test]
fn offline_escalation_is_deferred_and_counted_only_when_sent() {
    let mut p = limited(1);
    let d = p.decide(s(0), 0.95, Offline);
    assert_eq!(ad(d), (Escalate, Reason::Offline));
    assert!(d.deferred);
    assert_eq!(p.budget().usage(s(0)).0.calls, 0);
    // The escalation cooldown holds offline too: no flood of queued escalations.
    assert_eq!(
        ad(p.decide(s(1), 0.95, Offline)),
        (Ignore, Reason::Cooldown)
    );
    // Link back: the agent sends the queued escalation and counts it then.
    let r = p.reserve_escalation(s(30)).unwrap();
    assert_eq!(r.tokens(), 100);
    assert_eq!(p.budget().usage(s(30)).0.calls, 1);
    // A second queued one would exceed the hour's single call.
    assert_eq!(p.reserve_escalation(s(31)), Err(BudgetExhausted));
}

#[test]
fn reports_are_never_deferred() {
    let mut p = policy();
    let d = p.decide(s(0), 0.6, Offline);
    assert_eq!((ad(d), d.deferred), ((Report, Reason::EpisodeStart), false));
}

#[test]
fn settle_through_the_policy_refunds_the_estimate() {
    let mut p = Policy::new(PolicyConfig {
        budget: BudgetLimits {
            tokens_per_hour: 150,
            ..BudgetLimits::UNLIMITED
        },
        ..cfg()
    })
    .unwrap();
    let r = p.reserve_escalation(s(0)).unwrap();
    assert_eq!(p.reserve_escalation(s(1)), Err(BudgetExhausted)); // 100 + 100 > 150
    p.settle(r, 40);
    assert!(p.reserve_escalation(s(2)).is_ok()); // 40 + 100 ≤ 150
}

#[test]
fn sensitivity_scales_every_threshold() {
    let mut p = policy();
    p.set_sensitivity(2.0).unwrap();
    let t = p.thresholds();
    assert_eq!(
        (t.report_on, t.clear_below, t.act_locally_on, t.escalate_on),
        (1.0, 0.8, 1.4, 1.8)
    );
    // Less sensitive: 0.9 no longer starts an episode.
    assert_eq!(p.decide(s(0), 0.9, Online).reason, Reason::BelowThreshold);
    // More sensitive: report at 0.25, escalate at 0.45.
    p.set_sensitivity(0.5).unwrap();
    assert_eq!(
        ad(p.decide(s(1), 0.3, Online)),
        (Report, Reason::EpisodeStart)
    );
    assert_eq!(
        ad(p.decide(s(2), 0.46, Online)),
        (Escalate, Reason::EscalateThreshold)
    );
    // Back to 1: 0.3 is now under clear_below (0.4) and ends the episode.
    p.set_sensitivity(1.0).unwrap();
    assert_eq!(
        ad(p.decide(s(3), 0.3, Online)),
        (Report, Reason::EpisodeEnd)
    );
}

#[test]
fn invalid_sensitivity_is_refused_and_keeps_the_old_one() {
    let mut p = policy();
    for bad in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        assert_eq!(p.set_sensitivity(bad), Err(PolicyError::InvalidSensitivity));
    }
    assert_eq!(p.sensitivity(), 1.0);
}

#[test]
fn bad_thresholds_are_refused() {
    let with = |report_on, clear_below, act_locally_on, escalate_on| {
        Policy::new(PolicyConfig {
            thresholds: Thresholds {
                report_on,
                clear_below,
                act_locally_on,
                escalate_on,
            },
            ..cfg()
        })
        .map(|_| ())
    };
    assert_eq!(with(0.5, 0.6, 0.7, 0.9), Err(PolicyError::ThresholdOrder));
    assert_eq!(with(0.5, 0.4, 0.4, 0.9), Err(PolicyError::ThresholdOrder));
    assert_eq!(with(0.5, 0.4, 0.95, 0.9), Err(PolicyError::ThresholdOrder));
    assert_eq!(with(0.5, -0.1, 0.7, 0.9), Err(PolicyError::ThresholdOrder));
    assert_eq!(with(f32::NAN, 0.4, 0.7, 0.9), Err(PolicyError::NotFinite));
    assert_eq!(
        with(0.5, 0.4, 0.7, f32::INFINITY),
        Err(PolicyError::NotFinite)
    );
    // Equal thresholds are allowed (no hysteresis, one tier).
    assert_eq!(with(0.5, 0.5, 0.5, 0.5), Ok(()));
    assert!(Policy::new(PolicyConfig::default()).is_ok());
}

#[test]
fn decision_display_reads_well_in_logs() {
    extern crate std;
    use std::string::ToString;
    let d = Decision {
        action: Escalate,
        reason: Reason::Offline,
        score: 0.9512,
        deferred: true,
    };
    assert_eq!(d.to_string(), "escalate (offline, score 0.951, deferred)");
    let d = Decision {
        action: Ignore,
        reason: Reason::Cooldown,
        score: 0.5,
        deferred: false,
    };
    assert_eq!(d.to_string(), "ignore (cooldown, score 0.500)");
    assert!(!d.sends());
}

#[test]
fn decision_writes_itself_into_a_record() {
    let d = Decision {
        action: ActLocally,
        reason: Reason::EpisodeStart,
        score: 0.75,
        deferred: false,
    };
    let mut buf = [0u8; 128];
    let mut w = JsonRecord::new(&mut buf);
    d.write_to(&mut w).unwrap();
    assert_eq!(
        w.finish().unwrap(),
        br#"{"action":"act_locally","reason":"episode_start","score":0.75,"deferred":false}"#
    );
}

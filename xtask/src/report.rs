//! Reading the on-target harness's report (see `ioto_board_qemu::harness`).

/// The verdict on one suite run.
#[derive(Debug, PartialEq, Eq)]
pub struct SuiteReport {
    /// Tests that printed `ok`.
    pub passed: Vec<String>,
    /// The test that failed and the message after `FAILED`, if any.
    pub failed: Option<(String, String)>,
    /// The count from `running N tests`, if printed.
    pub declared: Option<usize>,
    /// Whether the closing `test result: ok.` line was printed.
    pub summary_ok: bool,
}

impl SuiteReport {
    /// Parses the console output of one firmware run.
    pub fn parse(output: &str) -> Self {
        let mut report = SuiteReport {
            passed: vec![],
            failed: None,
            declared: None,
            summary_ok: false,
        };
        let mut lines = output.lines().peekable();
        while let Some(line) = lines.next() {
            if let Some(rest) = line.strip_prefix("running ") {
                report.declared = rest.split_whitespace().next().and_then(|n| n.parse().ok());
            } else if let Some(rest) = line.strip_prefix("test result: ") {
                report.summary_ok = rest.starts_with("ok.");
            } else if let Some(rest) = line.strip_prefix("test ") {
                let Some((name, verdict)) = rest.split_once(" ... ") else {
                    continue;
                };
                // A test may print a measurement note such as `[stack 6036 B] ` before
                // its verdict.
                let verdict = match verdict.strip_prefix('[').and_then(|v| v.split_once("] ")) {
                    Some((_note, after)) => after,
                    None => verdict,
                };
                if verdict.trim_end() == "ok" {
                    report.passed.push(name.to_string());
                } else if verdict.starts_with("FAILED") {
                    let mut msg = Vec::new();
                    while let Some(next) = lines.peek() {
                        if next.starts_with("test result:") {
                            break;
                        }
                        msg.push(*next);
                        lines.next();
                    }
                    report.failed = Some((name.to_string(), msg.join("\n")));
                }
            }
        }
        report
    }

    /// Whether the run passed, given QEMU's exit code: exit 0, the closing line, every
    /// declared test passed and none failed.
    pub fn success(&self, code: Option<i32>) -> bool {
        code == Some(0)
            && self.summary_ok
            && self.failed.is_none()
            && self.declared == Some(self.passed.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_suite() {
        let r = SuiteReport::parse(
            "running 2 tests (smoke on qemu-m0)\ntest a ... ok\ntest b ... ok\ntest result: ok. 2 passed; 0 failed\n",
        );
        assert_eq!(r.passed, ["a", "b"]);
        assert!(r.success(Some(0)));
        assert!(!r.success(Some(1)));
        assert!(!r.success(None));
    }

    #[test]
    fn failing_test_is_named_with_message() {
        let r = SuiteReport::parse(
            "running 3 tests (smoke on qemu-m4f)\ntest a ... ok\ntest b ... FAILED\npanicked at src/x.rs:3:5:\nboom\ntest result: FAILED.\n",
        );
        assert_eq!(r.passed, ["a"]);
        let (name, msg) = r.failed.clone().expect("a failure");
        assert_eq!(name, "b");
        assert!(msg.contains("boom"));
        assert!(!r.success(Some(0)));
    }

    #[test]
    fn measurement_note_before_verdict() {
        let r = SuiteReport::parse(
            "running 2 tests (s on b)\ntest a ... [stack 6036 B, 72733283 instructions] ok\ntest b ... [stack 1 B] FAILED\nboom\ntest result: FAILED.\n",
        );
        assert_eq!(r.passed, ["a"]);
        assert_eq!(r.failed.map(|(name, _)| name).as_deref(), Some("b"));
    }

    #[test]
    fn missing_summary_or_count_mismatch_fails() {
        let cut = SuiteReport::parse("running 2 tests (s on b)\ntest a ... ok\n");
        assert!(!cut.success(Some(0)));
        let short = SuiteReport::parse(
            "running 3 tests (s on b)\ntest a ... ok\ntest result: ok. 1 passed; 0 failed\n",
        );
        assert!(!short.success(Some(0)));
    }
}

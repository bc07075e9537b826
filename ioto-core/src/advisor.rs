//! [`Advisor`]: asks a cloud model about an event and returns a typed decision.
//! `ioto-cloud` implements it (Chat Completions, Responses, Anthropic, any
//! OpenAI-compatible endpoint).
//!
//! The agent sends a compact context (features, scores, recent decisions, state — a
//! few hundred bytes of JSON, never raw windows) and the device functions
//! ([`crate::device::TOOLS`]); the model's tool calls come back as checked
//! [`Command`]s in an [`Advice`], which the agent applies through the same
//! [`crate::device::Limits`] as desired-state changes.

use crate::device::{Command, ToolSpec};

/// Most commands one answer may carry; more are refused by the adapter.
pub const MAX_COMMANDS: usize = 4;

/// Longest summary kept from the model's answer, bytes (cut on a char boundary).
pub const SUMMARY_LEN: usize = 160;

/// How serious the model judged the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Severity {
    /// Nothing to do.
    #[default]
    Info,
    /// Watch it.
    Warning,
    /// Act now.
    Critical,
}

impl Severity {
    /// Lower-case name, as in the model's JSON decision.
    pub const fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// The model's decision, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Advice {
    /// Severity of the event as judged by the model.
    pub severity: Severity,
    /// Device functions to call, already schema-checked by the adapter.
    pub commands: [Option<Command>; MAX_COMMANDS],
    /// Tokens the request used (0 if the endpoint does not say).
    pub tokens: u32,
    summary: [u8; SUMMARY_LEN],
    summary_len: u8,
}

impl Default for Advice {
    fn default() -> Self {
        Self {
            severity: Severity::Info,
            commands: [None; MAX_COMMANDS],
            tokens: 0,
            summary: [0; SUMMARY_LEN],
            summary_len: 0,
        }
    }
}

impl Advice {
    /// Adds a command; `false` when [`MAX_COMMANDS`] are already held.
    pub fn push_command(&mut self, command: Command) -> bool {
        match self.commands.iter_mut().find(|c| c.is_none()) {
            Some(slot) => {
                *slot = Some(command);
                true
            }
            None => false,
        }
    }

    /// The commands, in the order the model gave them.
    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.commands.iter().flatten()
    }

    /// Keeps the first [`SUMMARY_LEN`] bytes of `text` (on a char boundary).
    pub fn set_summary(&mut self, text: &str) {
        let mut end = text.len().min(SUMMARY_LEN);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.summary[..end].copy_from_slice(&text.as_bytes()[..end]);
        self.summary_len = end as u8;
    }

    /// The model's one-line summary.
    pub fn summary(&self) -> &str {
        core::str::from_utf8(&self.summary[..usize::from(self.summary_len)]).unwrap_or("")
    }
}

/// Asks a cloud model.
#[allow(async_fn_in_trait)]
pub trait Advisor {
    /// Why no decision came back (no link, budget spent, refused answer...).
    type Error: core::fmt::Debug;

    /// Sends `context` (compact JSON) with `tools` and returns the model's decision.
    async fn advise(&mut self, context: &str, tools: &[ToolSpec]) -> Result<Advice, Self::Error>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_caps_commands_and_cuts_summary_on_char_boundary() {
        let mut a = Advice::default();
        for n in 0..MAX_COMMANDS {
            assert!(a.push_command(Command::ReadSensor { channel: n as u8 }));
        }
        assert!(!a.push_command(Command::ReadSensor { channel: 9 }));
        assert_eq!(a.commands().count(), MAX_COMMANDS);
        let text = "éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé";
        a.set_summary(text);
        assert!(a.summary().len() <= SUMMARY_LEN);
        assert_eq!(a.summary().len() % 2, 0);
        assert!(a.summary().chars().all(|c| c == 'é'));
    }
}

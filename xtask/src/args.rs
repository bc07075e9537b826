//! A tiny command-line parser: flags, `--key value` options and positionals.

use crate::Result;

/// Parsed arguments of one subcommand.
#[derive(Debug, Default)]
pub struct Args {
    flags: Vec<String>,
    options: Vec<(String, String)>,
    /// Arguments that are neither flags nor options, in order.
    pub positional: Vec<String>,
}

impl Args {
    /// Parses `raw`, accepting only the flags and value-taking options listed.
    pub fn parse(raw: &[String], flags: &[&str], options: &[&str]) -> Result<Self> {
        let mut out = Args::default();
        let mut it = raw.iter();
        while let Some(a) = it.next() {
            if flags.contains(&a.as_str()) {
                out.flags.push(a.clone());
            } else if options.contains(&a.as_str()) {
                let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
                out.options.push((a.clone(), v.clone()));
            } else if a.starts_with("--") {
                return Err(format!("unknown option `{a}`"));
            } else {
                out.positional.push(a.clone());
            }
        }
        Ok(out)
    }

    /// Whether `flag` was given.
    pub fn flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// The last value given for `option`.
    pub fn option(&self, option: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(k, _)| k == option)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `option`, in order (for options that may repeat).
    pub fn options(&self, option: &str) -> impl Iterator<Item = &str> {
        self.options
            .iter()
            .filter(move |(k, _)| k == option)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn repeated_options_keep_every_value() {
        let a = Args::parse(&v(&["--suite", "ml", "--suite", "net"]), &[], &["--suite"])
            .expect("parses");
        assert_eq!(a.options("--suite").collect::<Vec<_>>(), ["ml", "net"]);
        assert_eq!(a.option("--suite"), Some("net"));
    }

    #[test]
    fn parses_flags_options_positionals() {
        let a = Args::parse(
            &v(&["ml", "--board", "qemu-m0", "--install"]),
            &["--install"],
            &["--board"],
        )
        .expect("valid");
        assert!(a.flag("--install"));
        assert_eq!(a.option("--board"), Some("qemu-m0"));
        assert_eq!(a.positional, v(&["ml"]));
    }

    #[test]
    fn rejects_unknown_and_missing_values() {
        assert!(Args::parse(&v(&["--bogus"]), &[], &[]).is_err());
        assert!(Args::parse(&v(&["--board"]), &[], &["--board"]).is_err());
    }
}

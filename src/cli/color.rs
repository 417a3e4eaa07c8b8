//! `--color`: when to colour output meant for people, by the flag and by the
//! terminal and environment conventions.

use clap::ValueEnum;

/// When to colour output meant for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour stderr. `auto` colours only a terminal that can show
    /// colour: never with `NO_COLOR` set (https://no-color.org), with
    /// `TERM=dumb` or with `CLICOLOR=0`; always with `CLICOLOR_FORCE` (the
    /// conventions anstream implements, as cargo and ripgrep do).
    pub fn for_stderr(self) -> bool {
        self.resolve(|| anstream::AutoStream::choice(&std::io::stderr()))
    }

    /// Whether to colour stdout, by the same rules as [`ColorChoice::for_stderr`].
    pub fn for_stdout(self) -> bool {
        self.resolve(|| anstream::AutoStream::choice(&std::io::stdout()))
    }

    fn resolve(self, auto: impl FnOnce() -> anstream::ColorChoice) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !matches!(auto(), anstream::ColorChoice::Never),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ColorChoice;

    #[test]
    fn an_explicit_colour_choice_wins_over_the_terminal_and_the_environment() {
        let never = || anstream::ColorChoice::Never;
        let always = || anstream::ColorChoice::Always;
        assert!(ColorChoice::Always.resolve(never));
        assert!(!ColorChoice::Never.resolve(always));
        assert!(ColorChoice::Auto.resolve(always));
        assert!(!ColorChoice::Auto.resolve(never));
    }
}

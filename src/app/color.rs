//! Colour settings the dashboard holds: the user's choice and the depth actually drawn with.
//! The theme that turns a depth into styles lives with the drawing code.

/// The `--color` choice of the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// 16 named colours unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// No colour at all: modifiers and glyphs only.
    Never,
    /// The 16 named ANSI colours.
    Ansi16,
    /// 256-colour ramps.
    Ansi256,
    /// 24-bit ramps.
    TrueColor,
}

/// The colour depth actually used for drawing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorDepth {
    /// No colours (`NO_COLOR`): modifiers and glyphs carry all meaning.
    Mono,
    /// 16 named ANSI colours.
    Ansi16,
    /// xterm 256-colour palette.
    Ansi256,
    /// 24-bit RGB.
    TrueColor,
}

impl ColorChoice {
    /// Resolve the choice against the environment. `no_color` is whether `NO_COLOR` is set to a
    /// non-empty value; it wins over everything because crossterm drops colours when it is set.
    #[must_use]
    pub fn resolve(self, no_color: bool) -> ColorDepth {
        if no_color {
            return ColorDepth::Mono;
        }
        match self {
            Self::Never => ColorDepth::Mono,
            Self::Auto | Self::Ansi16 => ColorDepth::Ansi16,
            Self::Ansi256 => ColorDepth::Ansi256,
            Self::TrueColor => ColorDepth::TrueColor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_wins_over_any_choice() {
        for c in [
            ColorChoice::Auto,
            ColorChoice::Never,
            ColorChoice::Ansi16,
            ColorChoice::Ansi256,
            ColorChoice::TrueColor,
        ] {
            assert_eq!(c.resolve(true), ColorDepth::Mono);
        }
        assert_eq!(ColorChoice::Auto.resolve(false), ColorDepth::Ansi16);
        assert_eq!(ColorChoice::Never.resolve(false), ColorDepth::Mono);
        assert_eq!(ColorChoice::TrueColor.resolve(false), ColorDepth::TrueColor);
    }
}

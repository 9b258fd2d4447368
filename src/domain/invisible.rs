//! Characters that show nothing: whitespace, controls, format characters (Unicode general
//! category Cf: zero-width, bidi and other controls) and the other default-ignorable code points
//! (fillers, variation selectors). A value made only of these looks empty or like something else.

/// Cf and Default_Ignorable_Code_Point ranges (Unicode 15), apart from what `char` already tells.
const RANGES: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),   // soft hyphen
    (0x034F, 0x034F),   // combining grapheme joiner
    (0x0600, 0x0605),   // Arabic number signs (Cf)
    (0x061C, 0x061C),   // Arabic letter mark
    (0x06DD, 0x06DD),   // Arabic end of ayah
    (0x070F, 0x070F),   // Syriac abbreviation mark
    (0x0890, 0x0891),   // Arabic pound and piastre marks above
    (0x08E2, 0x08E2),   // Arabic disputed end of ayah
    (0x115F, 0x1160),   // Hangul fillers
    (0x17B4, 0x17B5),   // Khmer inherent vowels
    (0x180B, 0x180F),   // Mongolian variation selectors and vowel separator
    (0x200B, 0x200F),   // zero-width space, (non-)joiners, LRM, RLM
    (0x202A, 0x202E),   // bidi embeddings and overrides
    (0x2060, 0x206F),   // word joiner, invisible operators, bidi isolates, deprecated formats
    (0x2800, 0x2800),   // braille blank
    (0x3164, 0x3164),   // Hangul filler
    (0xFE00, 0xFE0F),   // variation selectors
    (0xFEFF, 0xFEFF),   // zero-width no-break space (BOM)
    (0xFFA0, 0xFFA0),   // halfwidth Hangul filler
    (0xFFF0, 0xFFFB),   // unassigned specials, interlinear annotation
    (0x110BD, 0x110BD), // Kaithi number sign
    (0x110CD, 0x110CD), // Kaithi number sign above
    (0x13430, 0x1343F), // Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3), // shorthand format controls
    (0x1D173, 0x1D17A), // musical symbol format controls
    (0xE0000, 0xE0FFF), // tags, variation selectors supplement
];

/// Whether `c` shows nothing (or only steers how its neighbours show).
pub fn is_invisible(c: char) -> bool {
    if c.is_whitespace() || c.is_control() {
        return true;
    }
    let c = u32::from(c);
    RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_zero_width_characters_are_invisible_letters_are_not() {
        for c in [
            '\u{200B}', '\u{2060}', '\u{FEFF}', '\u{202E}', '\u{2066}', '\u{00AD}', '\u{3000}',
        ] {
            assert!(is_invisible(c), "U+{:04X}", u32::from(c));
        }
        for c in ['a', 'é', 'ж', '字', '1', '!', '\u{0301}'] {
            assert!(!is_invisible(c), "U+{:04X}", u32::from(c));
        }
    }
}

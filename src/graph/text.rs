//! Text measured without a font: the layout runs on the server, so widths are estimated
//! from Unicode display columns (wide CJK characters count two) at the sizes the
//! stylesheet sets. The estimate errs wide so that text stays inside its box.

use unicode_width::UnicodeWidthChar;

/// Font sizes the stylesheet uses, in user units.
pub(super) const NODE_FONT: f64 = 12.0;
pub(super) const SMALL_FONT: f64 = 10.0;

/// Average advance of one display column, as a share of the font size (generous for
/// proportional sans-serif faces).
const COLUMN_EM: f64 = 0.62;

/// Estimated width of `text` at `font_size`.
pub(super) fn width(text: &str, font_size: f64) -> f64 {
    columns(text) as f64 * COLUMN_EM * font_size
}

fn columns(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `text` cut to fit `max_width` at `font_size`, with `…` when cut.
pub(super) fn truncate(text: &str, font_size: f64, max_width: f64) -> String {
    if width(text, font_size) <= max_width {
        return text.to_string();
    }
    let budget = (max_width / (COLUMN_EM * font_size)).floor() as usize;
    // One column for the ellipsis.
    let budget = budget.saturating_sub(1);
    let mut used = 0;
    let mut cut = String::new();
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > budget {
            break;
        }
        used += w;
        cut.push(c);
    }
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_count_double_and_cuts_fit() {
        assert_eq!(width("ab", 10.0), 2.0 * width("a", 10.0));
        assert_eq!(width("名字", 10.0), width("abcd", 10.0));
        assert_eq!(truncate("short", 12.0, 100.0), "short");
        let long = "a".repeat(100);
        let cut = truncate(&long, 12.0, 100.0);
        assert!(cut.ends_with('…'));
        assert!(width(&cut, 12.0) <= 100.0, "{cut}");
        let wide = "名".repeat(40);
        assert!(width(&truncate(&wide, 12.0, 100.0), 12.0) <= 100.0);
    }
}

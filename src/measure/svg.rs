//! A small writer of inline SVG for the HTML report (`html.rs`): one chart
//! element at a time, each mark with a CSS class and a hover title, numbers
//! written with one decimal so the same report gives the same bytes. Why not
//! a charting crate: docs/decisions.md#the-html-report-draws-its-own-svg.
//!
//! Every text that reaches the output goes through [`escape`]; class names
//! and ids are the caller's constants or [`slug`]s.

use std::fmt::Write as _;

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references,
/// safe in HTML text and in a double- or single-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A name made fit for an `id`: ASCII letters, digits, `_` and `-` kept,
/// anything else turned into `-`.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A coordinate with one decimal (`12.5`, `0`, never `-0`); a value that is
/// not finite is written as 0, so a broken number cannot break the markup.
pub fn coordinate(x: f64) -> String {
    if !x.is_finite() {
        return String::from("0");
    }
    let rounded = (x * 10.0).round() / 10.0;
    if rounded == 0.0 {
        String::from("0")
    } else if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// A linear map from data values to drawing coordinates.
#[derive(Debug, Clone, Copy)]
pub struct Linear {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl Linear {
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Linear {
        Linear { domain, range }
    }

    /// Where `x` lands; the start of the range when the domain is empty.
    pub fn at(&self, x: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        if d1 == d0 {
            r0
        } else {
            r0 + (x - d0) / (d1 - d0) * (r1 - r0)
        }
    }
}

/// Axis ticks from 0 to a "nice" top at or above `max` (steps of 1, 2 or 5
/// times a power of ten, at most about five of them). For `max` ≤ 0 the axis
/// is 0 to 1.
pub fn nice_ticks(max: f64) -> Vec<f64> {
    if !max.is_finite() || max <= 0.0 {
        return vec![0.0, 0.5, 1.0];
    }
    let rough = max / 5.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power);
    let count = (max / step).ceil().max(1.0) as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// How a text is placed horizontally on its `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn name(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// One `<svg>` element being written.
pub struct Svg {
    out: String,
}

impl Svg {
    /// Opens `<svg id="…" class="chart" viewBox="0 0 width height">` with an
    /// accessible title.
    pub fn new(id: &str, width: f64, height: f64, title: &str) -> Svg {
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg id=\"{}\" class=\"chart\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{}\">\n<title>{}</title>\n",
            escape(id),
            coordinate(width),
            coordinate(height),
            coordinate(width),
            coordinate(height),
            escape(title),
            escape(title)
        );
        Svg { out }
    }

    /// ` <title>…</title>` inside a mark (shown on hover), or nothing.
    fn tooltip(&mut self, tooltip: &str) {
        if !tooltip.is_empty() {
            let _ = write!(self.out, "<title>{}</title>", escape(tooltip));
        }
    }

    /// A rectangle; a negative width or height is drawn from the other side.
    pub fn rect(&mut self, class: &str, x: f64, y: f64, width: f64, height: f64, tooltip: &str) {
        self.filled_rect(class, x, y, width, height, None, tooltip);
    }

    /// A rectangle with its own fill colour (`#rrggbb`) instead of its class's.
    #[allow(clippy::too_many_arguments)]
    pub fn filled_rect(
        &mut self,
        class: &str,
        x: f64,
        y: f64,
        width: f64,
        height: f64,
        fill: Option<&str>,
        tooltip: &str,
    ) {
        let (x, width) = if width < 0.0 {
            (x + width, -width)
        } else {
            (x, width)
        };
        let (y, height) = if height < 0.0 {
            (y + height, -height)
        } else {
            (y, height)
        };
        let _ = write!(
            self.out,
            "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
            coordinate(x),
            coordinate(y),
            coordinate(width),
            coordinate(height)
        );
        if let Some(fill) = fill {
            let _ = write!(self.out, " fill=\"{}\"", escape(fill));
        }
        if tooltip.is_empty() {
            self.out.push_str("/>\n");
        } else {
            self.out.push('>');
            self.tooltip(tooltip);
            self.out.push_str("</rect>\n");
        }
    }

    pub fn line(&mut self, class: &str, from: (f64, f64), to: (f64, f64)) {
        let _ = writeln!(
            self.out,
            "<line class=\"{class}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
            coordinate(from.0),
            coordinate(from.1),
            coordinate(to.0),
            coordinate(to.1)
        );
    }

    pub fn polyline(&mut self, class: &str, points: &[(f64, f64)]) {
        let points: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", coordinate(*x), coordinate(*y)))
            .collect();
        let _ = writeln!(
            self.out,
            "<polyline class=\"{class}\" points=\"{}\"/>",
            points.join(" ")
        );
    }

    pub fn circle(&mut self, class: &str, centre: (f64, f64), radius: f64, tooltip: &str) {
        let _ = write!(
            self.out,
            "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"{}\">",
            coordinate(centre.0),
            coordinate(centre.1),
            coordinate(radius)
        );
        self.tooltip(tooltip);
        self.out.push_str("</circle>\n");
    }

    pub fn text(&mut self, class: &str, at: (f64, f64), anchor: Anchor, text: &str) {
        let _ = writeln!(
            self.out,
            "<text class=\"{class}\" x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>",
            coordinate(at.0),
            coordinate(at.1),
            anchor.name(),
            escape(text)
        );
    }

    /// A text turned a quarter anticlockwise around its position (a vertical
    /// axis title).
    pub fn vertical_text(&mut self, class: &str, at: (f64, f64), text: &str) {
        let (x, y) = (coordinate(at.0), coordinate(at.1));
        let _ = writeln!(
            self.out,
            "<text class=\"{class}\" x=\"{x}\" y=\"{y}\" text-anchor=\"middle\" transform=\"rotate(-90 {x} {y})\">{}</text>",
            escape(text)
        );
    }

    /// Closes the element and returns its markup.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_both_quotes() {
        assert_eq!(
            escape("<b>\"a\" & 'b'</b>"),
            "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn coordinates_have_one_decimal_and_no_negative_zero() {
        assert_eq!(coordinate(12.0), "12");
        assert_eq!(coordinate(12.34), "12.3");
        assert_eq!(coordinate(-0.01), "0");
        assert_eq!(coordinate(f64::NAN), "0");
    }

    #[test]
    fn nice_ticks_reach_the_maximum_in_round_steps() {
        assert_eq!(nice_ticks(7.0), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        let unit = nice_ticks(1.0);
        assert_eq!(unit.len(), 6);
        assert!(unit.last().is_some_and(|top| (top - 1.0).abs() < 1e-12));
        assert_eq!(nice_ticks(0.0), vec![0.0, 0.5, 1.0]);
        assert_eq!(nice_ticks(1000.0), vec![0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]);
    }

    #[test]
    fn slugs_keep_only_id_characters() {
        assert_eq!(slug("fit_tier"), "fit_tier");
        assert_eq!(slug("a b<c"), "a-b-c");
    }
}

//! The bench's results: one [`Metric`] per table line, printed as a table
//! and written as JSON.

use super::measure::median;
use std::fmt::Write as _;

/// The issue's target for a ratio XSC / native.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// The ratio must be at most this.
    AtMost(f64),
    /// The ratio must be at least this.
    AtLeast(f64),
    /// The XSC program uses no CPU: met below [`IDLE_CPU_PERCENT`] of one
    /// CPU over the time it was blocked (what prints as 0.0%).
    IdleZero,
    /// XSC's median itself must be at most this (a count that must be 0
    /// where native's is 0 too).
    XscAtMost(f64),
}

/// The idle row's threshold, in percent of one CPU.
pub const IDLE_CPU_PERCENT: f64 = 0.05;

impl Target {
    fn text(self) -> String {
        match self {
            Target::AtMost(x) => format!("<= {x}"),
            Target::AtLeast(x) => format!(">= {x}"),
            Target::IdleZero => "0% CPU".into(),
            Target::XscAtMost(x) => format!("xsc <= {x}"),
        }
    }
}

/// One line of the table: a quantity measured natively and under XSC.
pub struct Metric {
    /// The row it belongs to (the `--only` name).
    pub row: &'static str,
    /// What is measured, as the table shows it.
    pub name: String,
    pub unit: &'static str,
    /// What the row's numbers are, for the JSON (sizes, commands).
    pub detail: String,
    pub target: Option<Target>,
    pub native: Vec<f64>,
    pub xsc: Vec<f64>,
    /// For [`Target::IdleZero`]: how long the XSC program was blocked, per
    /// run, in the metric's unit.
    pub xsc_span: Vec<f64>,
    /// Why the row could not be measured (or measured completely).
    pub error: Option<String>,
}

impl Metric {
    pub fn new(row: &'static str, name: impl Into<String>, unit: &'static str) -> Metric {
        Metric {
            row,
            name: name.into(),
            unit,
            detail: String::new(),
            target: None,
            native: Vec::new(),
            xsc: Vec::new(),
            xsc_span: Vec::new(),
            error: None,
        }
    }

    pub fn target(mut self, t: Target) -> Metric {
        self.target = Some(t);
        self
    }

    pub fn detail(mut self, d: impl Into<String>) -> Metric {
        self.detail = d.into();
        self
    }

    /// XSC's median over native's; None without both, or if native's is 0.
    pub fn ratio(&self) -> Option<f64> {
        let (n, x) = (median(&self.native)?, median(&self.xsc)?);
        (n != 0.0).then(|| x / n)
    }

    /// The XSC program's CPU as a percentage of one CPU over the time it
    /// was blocked (idle row).
    fn idle_percent(&self) -> Option<f64> {
        let (cpu, span) = (median(&self.xsc)?, median(&self.xsc_span)?);
        (span > 0.0).then(|| cpu / span * 100.0)
    }

    /// Whether the target is met; None without a target or a measurement.
    pub fn met(&self) -> Option<bool> {
        if self.error.is_some() {
            return None;
        }
        match self.target? {
            Target::AtMost(t) => Some(self.ratio()? <= t),
            Target::AtLeast(t) => Some(self.ratio()? >= t),
            Target::IdleZero => Some(self.idle_percent()? < IDLE_CPU_PERCENT),
            Target::XscAtMost(t) => Some(median(&self.xsc)? <= t),
        }
    }
}

/// A number with about four significant digits.
fn num(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 10.0 {
        format!("{x:.2}")
    } else if a >= 1.0 {
        format!("{x:.3}")
    } else {
        format!("{x:.4}")
    }
}

/// The table: row, native and XSC medians, ratio, target, met?; then the
/// reasons for rows that could not be measured.
pub fn table(metrics: &[Metric], runs: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nXSC against native, medians of {runs} run(s) of each taken side by side; ratio = XSC / native"
    );
    let _ = writeln!(
        s,
        "{:<44} {:>11} {:>11} {:>8}  {:<8} {:<4}",
        "row", "native", "xsc", "ratio", "target", "met?"
    );
    let _ = writeln!(s, "{}", "-".repeat(92));
    for m in metrics {
        let name = format!("{} [{}]", m.name, m.unit);
        let cell = |v: &[f64]| median(v).map_or("-".to_string(), num);
        let ratio = match (m.target, m.ratio()) {
            (Some(Target::IdleZero), None) => m
                .idle_percent()
                .map_or("-".into(), |p| format!("{p:.2}%cpu")),
            (_, Some(r)) => format!("{r:.2}"),
            (_, None) => "-".into(),
        };
        let met = match (m.met(), &m.error) {
            (_, Some(_)) => "n/a",
            (Some(true), _) => "yes",
            (Some(false), _) => "NO",
            (None, _) => "",
        };
        let _ = writeln!(
            s,
            "{name:<44} {:>11} {:>11} {ratio:>8}  {:<8} {met:<4}",
            cell(&m.native),
            cell(&m.xsc),
            m.target.map_or(String::new(), Target::text),
        );
    }
    for m in metrics {
        if let (Some(Target::IdleZero), Some(p)) = (m.target, m.idle_percent()) {
            let _ = writeln!(
                s,
                "\n{}: XSC used {p:.4}% of one CPU while blocked (target 0%, met below {IDLE_CPU_PERCENT}%)",
                m.name
            );
        }
    }
    let mut failed: Vec<(&str, &str)> = Vec::new();
    for m in metrics {
        if let Some(e) = &m.error {
            if !failed.contains(&(m.row, e)) {
                failed.push((m.row, e));
            }
        }
    }
    if !failed.is_empty() {
        let _ = writeln!(s, "\nnot measured (or not completely), by row:");
        for (row, e) in failed {
            let _ = writeln!(s, "  {row}: {e}");
        }
    }
    s
}

pub fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json_num(x: Option<f64>) -> String {
    match x {
        Some(x) if x.is_finite() => format!("{x}"),
        _ => "null".into(),
    }
}

fn json_list(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|&x| json_num(Some(x))).collect();
    format!("[{}]", items.join(", "))
}

/// The results as JSON: `context` (pairs of a key and a JSON value) and
/// one object per metric with every run's numbers.
pub fn json(context: &[(&str, String)], metrics: &[Metric]) -> String {
    let mut s = String::from("{\n");
    for (k, v) in context {
        let _ = writeln!(s, "  {}: {v},", json_str(k));
    }
    s.push_str("  \"rows\": [\n");
    for (i, m) in metrics.iter().enumerate() {
        let target = m.target.map(|t| json_str(&t.text()));
        let met = m.met().map(|b| b.to_string());
        let fields = [
            ("row", json_str(m.row)),
            ("name", json_str(&m.name)),
            ("unit", json_str(m.unit)),
            ("detail", json_str(&m.detail)),
            ("native_median", json_num(median(&m.native))),
            ("xsc_median", json_num(median(&m.xsc))),
            ("ratio", json_num(m.ratio())),
            ("xsc_cpu_percent", json_num(m.idle_percent())),
            ("target", target.unwrap_or_else(|| "null".into())),
            ("met", met.unwrap_or_else(|| "null".into())),
            ("native_runs", json_list(&m.native)),
            ("xsc_runs", json_list(&m.xsc)),
            ("error", m.error.as_deref().map_or("null".into(), json_str)),
        ];
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("      {}: {v}", json_str(k)))
            .collect();
        let comma = if i + 1 < metrics.len() { "," } else { "" };
        let _ = writeln!(s, "    {{\n{}\n    }}{comma}", body.join(",\n"));
    }
    s.push_str("  ]\n}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(native: &[f64], xsc: &[f64], t: Target) -> Metric {
        let mut m = Metric::new("r", "a row", "s").target(t);
        m.native = native.to_vec();
        m.xsc = xsc.to_vec();
        m
    }

    #[test]
    fn ratios_and_targets() {
        let m = metric(&[1.0, 2.0, 3.0], &[2.0, 2.5, 9.0], Target::AtMost(1.2));
        assert_eq!(m.ratio(), Some(1.25));
        assert_eq!(m.met(), Some(false));
        let m = metric(&[100.0], &[95.0], Target::AtLeast(0.9));
        assert_eq!(m.met(), Some(true));
        let mut m = metric(&[0.0], &[0.001], Target::IdleZero);
        m.xsc_span = vec![5.0];
        assert_eq!(m.ratio(), None);
        assert_eq!(m.met(), Some(true));
        m.xsc = vec![0.5];
        assert_eq!(m.met(), Some(false));
        let mut m = metric(&[1.0], &[1.0], Target::AtMost(1.5));
        m.error = Some("broken".into());
        assert_eq!(m.met(), None);
        assert!(table(&[m], 1).contains("  r: broken"));
    }

    #[test]
    fn json_is_escaped() {
        let mut m = metric(&[1.0], &[], Target::AtMost(1.0));
        m.error = Some("say \"no\"\n".into());
        let j = json(&[("runs", "1".into())], &[m]);
        assert!(j.contains(r#""error": "say \"no\"\n""#), "{j}");
        assert!(j.contains(r#""xsc_median": null"#), "{j}");
        assert!(j.contains(r#""runs": 1,"#), "{j}");
    }
}

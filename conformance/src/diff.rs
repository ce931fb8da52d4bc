//! A line diff of two small texts (a case's output, natively and under
//! xsc-run), by longest common subsequence.

/// `  line` for lines both have, `- line` for the first's only, `+ line`
/// for the second's only.
pub fn lines(a: &str, b: &str) -> String {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    // lcs[i][j]: the length of the longest common subsequence of a[i..]
    // and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out += &format!("  {}\n", a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out += &format!("- {}\n", a[i]);
            i += 1;
        } else {
            out += &format!("+ {}\n", b[j]);
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::lines;

    #[test]
    fn equal_texts_have_only_common_lines() {
        assert_eq!(lines("a\nb\n", "a\nb\n"), "  a\n  b\n");
    }

    #[test]
    fn changed_missing_and_extra_lines_are_marked() {
        assert_eq!(
            lines("a\nb\nc\n", "a\nB\nc\nd\n"),
            "  a\n- b\n+ B\n  c\n+ d\n"
        );
        assert_eq!(lines("x\n", ""), "- x\n");
        assert_eq!(lines("", "y\n"), "+ y\n");
    }
}

//! Rust symbol names: demangling (with `rustc-demangle`) and the crate a
//! symbol's code comes from.
//!
//! `rustc-demangle` does the demangling but does not expose the parsed
//! path, so the crate is read here:
//!
//! - v0 (`_R...`): parsed exactly: the crate root `C<ident>` of the
//!   symbol's path; for an impl (`M`, `X`) the path of the module that holds
//!   the impl, which is where the code is. For a trait's provided method
//!   (`Y <type> <trait>`) the trait's crate, read from the demangled name.
//! - legacy (`_ZN...E`): the first path component; for a trait impl
//!   (`<Type as Trait>::method`) the legacy mangling does not say where the
//!   impl is, so this is a guess: the crate that is not `core`/`alloc`/`std`
//!   if exactly one is, else the type's crate.

/// The demangled name without the hash, or the name itself if it is not a
/// Rust symbol (C and assembly names, C++ names).
pub fn demangle(raw: &str) -> String {
    match rustc_demangle::try_demangle(raw) {
        Ok(d) => format!("{d:#}"),
        Err(_) => raw.to_string(),
    }
}

/// The crate a Rust symbol's code comes from, when the mangled name says so.
pub fn crate_of(raw: &str) -> Option<String> {
    let demangled = match rustc_demangle::try_demangle(raw) {
        Ok(d) => format!("{d:#}"),
        Err(_) => return None,
    };
    if let Some(v0) = v0_body(raw) {
        let mut p = V0 {
            s: v0.as_bytes(),
            i: 0,
            depth: 0,
        };
        p.skip_decimal();
        return match p.path_crate() {
            Some(Found::Crate(c)) => Some(c),
            Some(Found::TraitDefault) => qualified(&demangled).and_then(|(_, tr)| tr),
            None => None,
        };
    }
    if let Some((ty, tr)) = qualified(&demangled) {
        return pick_impl_crate(ty, tr);
    }
    first_component(&demangled)
}

/// The part after `_R` of a v0 name (with the prefixes rustc-demangle
/// accepts), or `None` for a legacy or foreign name.
fn v0_body(raw: &str) -> Option<&str> {
    let s = raw
        .strip_prefix("__R")
        .or_else(|| raw.strip_prefix("_R"))
        .or_else(|| raw.strip_prefix('R'))?;
    // A v0 body starts with an optional version number then a path tag.
    s.chars()
        .next()
        .filter(|c| c.is_ascii_uppercase() || c.is_ascii_digit())?;
    Some(s)
}

enum Found {
    Crate(String),
    TraitDefault,
}

/// Just enough of a v0 parser to find the crate of a path.
struct V0<'a> {
    s: &'a [u8],
    i: usize,
    depth: u32,
}

impl V0<'_> {
    fn next(&mut self) -> Option<u8> {
        let b = *self.s.get(self.i)?;
        self.i += 1;
        Some(b)
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_decimal(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
    }

    fn decimal(&mut self) -> Option<usize> {
        let start = self.i;
        self.skip_decimal();
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    /// `<base-62-number>`: `_` is 0, else digits then `_`, plus one.
    fn base62(&mut self) -> Option<u64> {
        if self.eat(b'_') {
            return Some(0);
        }
        let mut x: u64 = 0;
        loop {
            let c = self.next()?;
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'z' => c - b'a' + 10,
                b'A'..=b'Z' => c - b'A' + 36,
                b'_' => return x.checked_add(1),
                _ => return None,
            };
            x = x.checked_mul(62)?.checked_add(u64::from(d))?;
        }
    }

    fn disambiguator(&mut self) -> Option<()> {
        if self.eat(b's') {
            self.base62()?;
        }
        Some(())
    }

    fn ident(&mut self) -> Option<String> {
        self.disambiguator()?;
        let punycode = self.eat(b'u');
        let len = self.decimal()?;
        self.eat(b'_');
        let end = self.i.checked_add(len)?;
        let bytes = self.s.get(self.i..end)?;
        self.i = end;
        let name = std::str::from_utf8(bytes).ok()?.to_string();
        (!punycode).then_some(name)
    }

    fn path_crate(&mut self) -> Option<Found> {
        self.depth += 1;
        if self.depth > 64 {
            return None;
        }
        let here = self.i;
        match self.next()? {
            b'C' => self.ident().map(Found::Crate),
            b'N' => {
                self.next()?; // namespace
                self.path_crate()
            }
            b'M' | b'X' => {
                self.disambiguator()?;
                self.path_crate()
            }
            b'Y' => Some(Found::TraitDefault),
            b'I' => self.path_crate(),
            b'B' => {
                // Backrefs point back into the body, after the "_R".
                let target = usize::try_from(self.base62()?).ok()?;
                if target >= here {
                    return None;
                }
                self.i = target;
                self.path_crate()
            }
            _ => None,
        }
    }
}

/// For `<A as B>::rest` the (A, B) pair of crates, for `<A>::rest` (A, None).
fn qualified(demangled: &str) -> Option<(Option<String>, Option<String>)> {
    let inner = demangled.strip_prefix('<')?;
    let mut depth = 0i32;
    let mut as_at = None;
    for (i, c) in inner.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            '>' if depth == 0 => {
                let ty = &inner[..as_at.unwrap_or(i)];
                let tr = as_at.map(|a| &inner[a + 4..i]);
                return Some((first_component(ty), tr.and_then(first_component)));
            }
            '>' => depth -= 1,
            ' ' if depth == 0 && as_at.is_none() && inner[i..].starts_with(" as ") => {
                as_at = Some(i)
            }
            _ => {}
        }
    }
    None
}

/// The first `::`-separated component of a path, if it is one (not a
/// primitive, reference, slice, tuple, pointer, ...).
fn first_component(path: &str) -> Option<String> {
    let (first, _) = path.split_once("::")?;
    let ok = !first.is_empty()
        && first
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
        && first.chars().all(|c| c.is_alphanumeric() || c == '_');
    ok.then(|| first.to_string())
}

fn is_std(c: &str) -> bool {
    matches!(c, "core" | "alloc" | "std" | "proc_macro" | "test")
}

fn pick_impl_crate(ty: Option<String>, tr: Option<String>) -> Option<String> {
    match (ty, tr) {
        (Some(t), Some(r)) if is_std(&t) && !is_std(&r) => Some(r),
        (Some(t), _) => Some(t),
        (None, r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names() {
        let n = "_ZN4core3fmt5write17h0123456789abcdefE";
        assert_eq!(demangle(n), "core::fmt::write");
        assert_eq!(crate_of(n).as_deref(), Some("core"));
        let n = "_ZN7mycrate3foo3bar17h0123456789abcdefE";
        assert_eq!(crate_of(n).as_deref(), Some("mycrate"));
        // <alloc::string::String as mycrate::Trait>::m: the non-std crate.
        let n =
            "_ZN56_$LT$alloc..string..String$u20$as$u20$mycrate..Trait$GT$1m17h0123456789abcdefE";
        assert_eq!(demangle(n), "<alloc::string::String as mycrate::Trait>::m");
        assert_eq!(crate_of(n).as_deref(), Some("mycrate"));
        // Inherent impl on a primitive: the module path says core.
        let n = "_ZN4core3num21_$LT$impl$u20$i32$GT$3abs17h0123456789abcdefE";
        assert_eq!(crate_of(n).as_deref(), Some("core"));
    }

    #[test]
    fn v0_names() {
        // mycrate::foo
        let n = "_RNvCs1234_7mycrate3foo";
        assert_eq!(demangle(n), "mycrate::foo");
        assert_eq!(crate_of(n).as_deref(), Some("mycrate"));
        // <mycrate::Foo as core::fmt::Debug>::fmt, impl in mycrate (X with
        // the impl's module path first).
        let n = "_RNvXCs1234_7mycrateNtB2_3FooNtNtCs5678_4core3fmt5Debug3fmt";
        assert_eq!(demangle(n), "<mycrate::Foo as core::fmt::Debug>::fmt");
        assert_eq!(crate_of(n).as_deref(), Some("mycrate"));
        // The same impl written in crate "other" (a blanket-like case the
        // legacy guess would get wrong): the impl path says "other".
        let n = "_RNvXCs9_5otherNtCs1234_7mycrate3FooNtNtCs5678_4core3fmt5Debug3fmt";
        assert_eq!(demangle(n), "<mycrate::Foo as core::fmt::Debug>::fmt");
        assert_eq!(crate_of(n).as_deref(), Some("other"));
    }

    #[test]
    fn foreign_and_hostile_names() {
        assert_eq!(crate_of("main"), None);
        assert_eq!(crate_of("_ZN3foo3barEv"), None); // C++
        assert_eq!(demangle("memcpy"), "memcpy");
        // Backref loops and truncated names do not hang or panic.
        for n in [
            "_RB_",
            "_RNvB0_3foo",
            "_RNvNvNvNvNvNvNv",
            "_RC",
            "_RNvCs_",
            "_RXB_",
            "_R",
        ] {
            let _ = crate_of(n);
            let _ = demangle(n);
        }
    }
}

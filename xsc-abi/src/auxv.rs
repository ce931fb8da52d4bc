//! Auxiliary-vector keys an XSC kernel adds for a binary carrying the
//! `XSC_ABI` note. Chosen far above Linux's own keys (which end below 64) so
//! that a libc ignoring unknown keys keeps working.

/// The ABI version the kernel speaks ([`crate::ABI_VERSION`]).
pub const AT_XSC_VERSION: u64 = 0x5853_0001;
/// Address of the main thread's [`crate::RingRegion`].
pub const AT_XSC_RING: u64 = 0x5853_0002;
/// Address of the process's [`crate::EntryTable`].
pub const AT_XSC_ENTRY: u64 = 0x5853_0003;

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_pinned() {
        assert_eq!(super::AT_XSC_VERSION, 0x5853_0001);
        assert_eq!(super::AT_XSC_RING, 0x5853_0002);
        assert_eq!(super::AT_XSC_ENTRY, 0x5853_0003);
    }
}

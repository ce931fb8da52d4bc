//! Submission entries (user → kernel) and completion entries (kernel → user).

/// One request: a Linux system call of the program's architecture.
///
/// Exactly one cache line. The kernel reads an entry only between the
/// submission ring's head and tail, after an acquire load of the tail.
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubmissionEntry {
    /// The architecture's Linux system-call number (`__NR_*`).
    pub opcode: u32,
    /// Submission flags: [`SQE_F_THEN_EXIT`] (entry table `thread_call`
    /// only). Any other set bit, or a flag where it is not allowed, makes
    /// the entry malformed ([`CQE_F_MALFORMED`], `-EINVAL`).
    pub flags: u32,
    /// The six argument words, exactly as the system call takes them.
    pub args: [u64; 6],
    /// Opaque to the kernel; copied into the completion entry.
    pub user_data: u64,
}

/// `thread_call` only: perform the operation once the calling thread no
/// longer runs on its own stack, then end the thread as `exit(0)` would;
/// the call does not return. For a thread that frees its own stack
/// (`munmap` of the stack it runs on, then exit), which a program cannot do
/// by itself without a system-call instruction. Valid for threads created
/// by clone; the main thread gets `-EINVAL`.
pub const SQE_F_THEN_EXIT: u32 = 1 << 0;

/// Mask of the submission flags a v3 kernel accepts on the rings (none).
pub const SQE_FLAGS_KNOWN: u32 = 0;
/// Mask of the submission flags a v3 kernel accepts through `thread_call`.
pub const SQE_FLAGS_KNOWN_THREAD_CALL: u32 = SQE_F_THEN_EXIT;

impl SubmissionEntry {
    pub const fn new(opcode: u32, args: [u64; 6], user_data: u64) -> Self {
        Self {
            opcode,
            flags: 0,
            args,
            user_data,
        }
    }
}

/// The result of one submission entry.
#[repr(C, align(32))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompletionEntry {
    /// The `user_data` of the submission entry this completes.
    pub user_data: u64,
    /// What the system call returned: a value >= 0, or `-errno` in
    /// `-4095..=-1`, exactly as the raw Linux system call returns it.
    pub result: i64,
    /// `CQE_F_*` flags saying why an entry failed without being executed.
    pub flags: u32,
    /// The opcode of the submission entry (for diagnostics).
    pub opcode: u32,
    /// Zero in v2 and v3.
    pub reserved: u64,
}

/// The opcode is not a system call this kernel knows; `result` is `-ENOSYS`.
pub const CQE_F_UNKNOWN_OP: u32 = 1 << 0;
/// The entry breaks a rule of the ABI (e.g. undefined flag bits); `result`
/// is `-EINVAL`. The call was not executed.
pub const CQE_F_MALFORMED: u32 = 1 << 1;
/// The submission ring's indices were invalid (the tail ran more than
/// `sq_entries` ahead of the head). The kernel dropped the pending entries,
/// set the head to the tail and posts this one completion with
/// `user_data == 0` and `result == -EINVAL`.
pub const CQE_F_RING_ERROR: u32 = 1 << 2;
/// The opcode is a thread-context operation (see [`crate::ops`]) and must be
/// made through the entry table's `thread_call`, not the ring; `result` is
/// `-EINVAL`. The call was not executed.
pub const CQE_F_WRONG_CONTEXT: u32 = 1 << 3;

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn submission_entry_is_one_cache_line() {
        assert_eq!(size_of::<SubmissionEntry>(), 64);
        assert_eq!(align_of::<SubmissionEntry>(), 64);
        assert_eq!(offset_of!(SubmissionEntry, opcode), 0);
        assert_eq!(offset_of!(SubmissionEntry, flags), 4);
        assert_eq!(offset_of!(SubmissionEntry, args), 8);
        assert_eq!(offset_of!(SubmissionEntry, user_data), 56);
    }

    #[test]
    fn completion_entry_layout() {
        assert_eq!(size_of::<CompletionEntry>(), 32);
        assert_eq!(align_of::<CompletionEntry>(), 32);
        assert_eq!(offset_of!(CompletionEntry, user_data), 0);
        assert_eq!(offset_of!(CompletionEntry, result), 8);
        assert_eq!(offset_of!(CompletionEntry, flags), 16);
        assert_eq!(offset_of!(CompletionEntry, opcode), 20);
        assert_eq!(offset_of!(CompletionEntry, reserved), 24);
    }

    #[test]
    fn submission_flags_are_pinned() {
        assert_eq!(SQE_F_THEN_EXIT, 1);
        assert_eq!(SQE_FLAGS_KNOWN, 0);
        assert_eq!(SQE_FLAGS_KNOWN_THREAD_CALL, 1);
    }

    #[test]
    fn completion_flags_are_distinct_bits() {
        let all = [
            CQE_F_UNKNOWN_OP,
            CQE_F_MALFORMED,
            CQE_F_RING_ERROR,
            CQE_F_WRONG_CONTEXT,
        ];
        assert_eq!(all, [1, 2, 4, 8]);
    }
}

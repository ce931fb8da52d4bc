//! Model check of the `SQ_NEED_WAKEUP` handshake (ABI §4.1 step 4, §5.1):
//! a submitter that publishes an entry without waiting, and a poller that
//! goes to sleep, never both miss each other. Either the poller sees the new
//! tail before it sleeps, or the submitter sees the flag and rings the
//! doorbell. `loom` explores every interleaving and every outcome the C11
//! memory model allows for these atomics.
//!
//! The reference kernel runs no poller (every entry is consumed inline), so
//! this handshake is what the ABI asks of any kernel that does; the model
//! pins the orderings it names. The second test removes the fences and
//! shows the checker finding the lost wake-up, so the first cannot pass for
//! want of looking.

use loom::sync::atomic::{fence, AtomicBool, AtomicU32, Ordering};
use loom::sync::Arc;
use xsc_abi::region::SQ_NEED_WAKEUP;

struct Ring {
    sq_tail: AtomicU32,
    sq_flags: AtomicU32,
    doorbell_rang: AtomicBool,
}

/// One run of the handshake: returns (the poller saw the entry before
/// sleeping, the submitter rang the doorbell).
fn handshake(fences: bool) -> (bool, bool) {
    let ring = Arc::new(Ring {
        sq_tail: AtomicU32::new(0),
        sq_flags: AtomicU32::new(0),
        doorbell_rang: AtomicBool::new(false),
    });
    let submitter = {
        let ring = ring.clone();
        loom::thread::spawn(move || {
            // §4.1: publish (store-release of the tail), fence, load flags.
            ring.sq_tail.store(1, Ordering::Release);
            if fences {
                fence(Ordering::SeqCst);
            }
            if ring.sq_flags.load(Ordering::Relaxed) & SQ_NEED_WAKEUP != 0 {
                ring.doorbell_rang.store(true, Ordering::Relaxed);
            }
        })
    };
    // §5.1: announce the sleep (SeqCst read-modify-write), fence, look at
    // the tail once more.
    ring.sq_flags.fetch_or(
        SQ_NEED_WAKEUP,
        if fences {
            Ordering::SeqCst
        } else {
            Ordering::Relaxed
        },
    );
    if fences {
        fence(Ordering::SeqCst);
    }
    let saw = ring.sq_tail.load(Ordering::Relaxed) == 1;
    submitter.join().unwrap();
    (saw, ring.doorbell_rang.load(Ordering::Relaxed))
}

#[test]
fn a_submission_is_never_left_unnoticed() {
    loom::model(|| {
        let (poller_saw_it, doorbell_rang) = handshake(true);
        assert!(
            poller_saw_it || doorbell_rang,
            "the poller slept without the entry and nobody rang the doorbell"
        );
    });
}

#[test]
fn without_the_fences_the_wakeup_can_be_lost() {
    let found = std::panic::catch_unwind(|| {
        loom::model(|| {
            let (poller_saw_it, doorbell_rang) = handshake(false);
            assert!(poller_saw_it || doorbell_rang);
        })
    });
    assert!(
        found.is_err(),
        "loom should find the interleaving in which both sides miss each other"
    );
}

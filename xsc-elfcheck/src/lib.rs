//! xsc-elfcheck (being written).

//! A downstream crate of `xplenty-api`: its tests use the public API only, as a user's
//! crate would, and build their own `reqwest` client (`default-features = false`) in the
//! same build as ours. Run alone (`cargo test -p xplenty-downstream`), cargo resolves
//! features exactly as for a user's crate.

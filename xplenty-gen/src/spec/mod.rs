//! The spec side of generation: load the YAML, check the project's rules, and read the
//! one [`Model`] every later stage shares (the passes, the CLI, the test emitters and the
//! fake's build).

pub(crate) mod check;
pub(crate) mod load;
pub(crate) mod model;
pub(crate) mod normalise;
pub(crate) mod spelling;
pub(crate) mod tolerance;

//! What the tests that drive slotscope's library against a lab cluster share: a runtime and
//! the connection options for a lab.

use std::time::Duration;

use slotscope::cluster::types::Endpoint;
use slotscope::lab::Lab;
use slotscope::refresh::{ConnectOptions, Secret};

/// A two-worker runtime for one test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Options for `lab`, every node a seed, its password, a 3 s command timeout.
pub fn options(lab: &Lab) -> ConnectOptions {
    options_with_seeds(lab, lab.endpoints())
}

/// [`options`] with these seeds.
pub fn options_with_seeds(lab: &Lab, seeds: Vec<Endpoint>) -> ConnectOptions {
    let mut o = ConnectOptions::new(seeds);
    o.password = lab.password().map(Secret::new);
    o.command_timeout = Duration::from_secs(3);
    o
}

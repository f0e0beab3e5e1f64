//! AFL target: see `targets::feed`.
#[path = "../targets.rs"]
mod targets;

fn main() {
    afl::fuzz!(|data: &[u8]| targets::feed(data));
}

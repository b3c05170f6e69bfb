//! Load a pack manifest and print the problems found, if any (the checks `soundsticker build` runs first).
//!
//! Run: `cargo run --release --example check_manifest -- assets/demo/pack.json`

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "assets/demo/pack.json".into());
    match soundsticker::pack::load(std::path::Path::new(&path)) {
        Ok(m) => println!("{path}: OK, {} stickers", m.manifest.stickers.len()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}

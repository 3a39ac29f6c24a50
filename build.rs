// The lessons are embedded in the binary (include_dir), which does not tell Cargo to rebuild
// when a lesson file is added or edited; this does.
fn main() {
    println!("cargo:rerun-if-changed=lessons");
}

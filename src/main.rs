fn main() {
    std::process::exit(kafka_workshop::run());
}

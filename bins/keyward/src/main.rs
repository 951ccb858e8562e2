//! The keyward server: the command line, the configuration file, the
//! listeners and the signals. Everything else lives in the crates; this
//! binary only wires `http-api` to sockets.
#![forbid(unsafe_code)]

mod cli;
mod client;
mod cluster;
mod config;
mod config_check;
mod dev;
mod limits;
mod listener;
mod operator;
mod reference;
mod securityadmin;
mod server;

use clap::Parser;

/// mimalloc instead of the system allocator: batch requests allocate and
/// free megabyte buffers on every call, which glibc's allocator turns into
/// mmap/munmap and page faults (measured with `cargo xtask bench transit`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Server(args) => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("keyward: cannot start the async runtime: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            match runtime.block_on(server::run(*args)) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("keyward: {e:#}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        cli::Command::Securityadmin(args) => match securityadmin::run(&args) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("keyward securityadmin: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
        cli::Command::Config(cli::ConfigCommand::Check { file }) => {
            match config_check::check(&file) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("keyward config check: {e:#}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        cli::Command::Config(cli::ConfigCommand::Reference { write }) => match write {
            None => {
                print!("{}", reference::flags_table());
                std::process::ExitCode::SUCCESS
            }
            Some(path) => {
                let updated = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|text| reference::splice(&text));
                match updated.map(|text| std::fs::write(&path, text)) {
                    Some(Ok(())) => std::process::ExitCode::SUCCESS,
                    _ => {
                        eprintln!(
                            "keyward config reference: cannot update {} (are the markers there?)",
                            path.display()
                        );
                        std::process::ExitCode::FAILURE
                    }
                }
            }
        },
        cli::Command::Operator(cli::OperatorCommand::Snapshot(cmd)) => {
            match operator::snapshot(&cmd) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("keyward operator snapshot: {e:#}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        cli::Command::Openapi => {
            print!("{}", http_api::openapi::document_text());
            std::process::ExitCode::SUCCESS
        }
    }
}

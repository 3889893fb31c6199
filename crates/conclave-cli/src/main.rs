//! `conclave`: the command-line entry point.

mod demo;
mod node_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Conclave: threshold signing with no single point of compromise.
#[derive(Debug, Parser)]
#[command(name = "conclave", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a local in-process group: generate keys with no dealer on every curve and check them.
    Demo(demo::DemoArgs),
    /// Run a node of a cluster (peer transport, session manager, encrypted store).
    Node(node_cmd::NodeArgs),
    /// Audit-log tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Create a whole local cluster: every node's files and one client credential.
    Init(node_cmd::InitClusterArgs),
    /// Create a new node's identity key, TLS certificate, master key and configuration.
    InitNode(node_cmd::InitArgs),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify a node's audit log (hash chain, signatures, end of log against the store).
    Verify(node_cmd::AuditVerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Node(args) => node_cmd::run(&args),
        Command::InitNode(args) => node_cmd::init(&args),
        Command::Init(args) => node_cmd::init_cluster(&args).map(|_| ()),
        Command::Audit(AuditCommand::Verify(args)) => node_cmd::audit_verify(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

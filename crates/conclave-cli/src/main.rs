//! `conclave`: the command-line entry point.

mod client_cmd;
mod client_config;
mod demo;
mod demo_nodes;
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
    /// Run a local cluster of nodes (mutual TLS on loopback, own stores) and, through their API,
    /// generate keys with no dealer, sign on every scheme, reshare, and check every signature.
    Demo(demo::DemoArgs),
    /// Run a node of a cluster (peer transport, session manager, encrypted store).
    Node(node_cmd::NodeArgs),
    /// Create a whole local cluster: every node's files and one client credential.
    Init(node_cmd::InitClusterArgs),
    /// Create a new node's identity key, TLS certificate, master key and configuration.
    InitNode(node_cmd::InitArgs),
    /// Generate a key with no dealer (ECDSA keys also run aux-info for the party set).
    Keygen(client_cmd::KeysCreateArgs),
    /// Sign a message with a key (the nodes of the signer set each check their own policy).
    Sign(client_cmd::SignArgs),
    /// A key's public forms: SEC1 public key, SPKI PEM, x-only key, chain code.
    Pubkey(client_cmd::PubkeyArgs),
    /// A node's health, keys, presignature pools and recent sessions.
    Status(client_cmd::StatusArgs),
    /// Keys on a node: create, list, show, presignatures (older forms of keygen and pubkey).
    #[command(subcommand)]
    Keys(client_cmd::KeysCommand),
    /// Refresh a key's shares: same parties, same public key, fresh shares.
    Refresh(client_cmd::RefreshArgs),
    /// Move a key to another group and threshold (same public key).
    Reshare(client_cmd::ReshareArgs),
    /// Recent sessions on a node, or one session.
    Sessions(client_cmd::SessionsArgs),
    /// A node's audit log: list it through the API, or `verify` it offline.
    Audit(client_cmd::AuditArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Node(args) => node_cmd::run(&args),
        Command::InitNode(args) => node_cmd::init(&args),
        Command::Init(args) => node_cmd::init_cluster(&args).map(|_| ()),
        Command::Keygen(args) => client_cmd::keygen(&args),
        Command::Pubkey(args) => client_cmd::pubkey(&args),
        Command::Status(args) => client_cmd::status(&args),
        Command::Keys(cmd) => client_cmd::keys(&cmd),
        Command::Sign(args) => client_cmd::sign(&args),
        Command::Refresh(args) => client_cmd::refresh(&args),
        Command::Reshare(args) => client_cmd::reshare(&args),
        Command::Sessions(args) => client_cmd::sessions(&args),
        Command::Audit(args) => client_cmd::audit(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

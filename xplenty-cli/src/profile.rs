//! Profiles: `config.toml` in the platform's config directory (`$XDG_CONFIG_HOME/xplenty`,
//! else `~/.config/xplenty` on Linux), `auth login|status|logout`, and where each setting
//! comes from. Precedence: flags, then the environment, then the profile.

use std::collections::BTreeMap;
use std::io::{BufRead as _, IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde::{Deserialize, Serialize};

use crate::rt::{self, CliError, Outcome};

/// The profile used when neither `--profile` nor `XPLENTY_PROFILE` names one.
pub const DEFAULT_PROFILE: &str = "default";

/// The whole file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[profiles.NAME]` tables.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One `[profiles.NAME]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub account: String,
    pub api_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

/// Where the config file is; `None` when the platform has no config directory.
pub fn path() -> Option<PathBuf> {
    Some(dirs::config_dir()?.join("xplenty").join("config.toml"))
}

/// The file, or an empty one when it does not exist.
pub fn load(path: &Path) -> Result<Config, CliError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            toml::from_str(&text).map_err(|e| CliError::Credentials(format!("{}: {}", path.display(), e.message())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(CliError::Credentials(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Writes the file whole: a new file created owner-only (0600) beside it, then renamed
/// over it, so the key is never readable by others, not even for a moment.
pub fn save(path: &Path, config: &Config) -> Result<(), CliError> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    let text = toml::to_string(config).map_err(|e| CliError::Input(format!("cannot write the config: {e}")))?;
    let fail = |e: std::io::Error| CliError::Input(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(fail)?;
    }
    let temporary = path.with_extension(format!("toml.{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temporary).map_err(fail)?;
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(fail)?;
    std::fs::rename(&temporary, path).map_err(fail)
}

/// The profile's name, and whether it was asked for (`--profile`, `XPLENTY_PROFILE`).
pub fn profile_name(m: &ArgMatches) -> (String, bool) {
    match m.get_one::<String>("profile").cloned().or_else(|| env("XPLENTY_PROFILE")) {
        Some(name) => (name, true),
        None => (DEFAULT_PROFILE.to_owned(), false),
    }
}

fn env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

/// A setting and where it came from (said by `auth status`; the key's value never is).
#[derive(Debug, Clone)]
pub struct Sourced {
    pub value: String,
    pub source: String,
}

/// The account, key and base URL after the precedence, and a problem with the config
/// file (raised only when the file was needed).
#[derive(Debug, Default)]
pub struct Settings {
    pub account: Option<Sourced>,
    pub key: Option<Sourced>,
    pub base_url: Option<Sourced>,
    pub problem: Option<String>,
}

/// Flags, then the environment, then the profile.
pub fn settings(m: &ArgMatches) -> Settings {
    let (name, asked) = profile_name(m);
    let from = |flag: &str, var: &str| {
        m.get_one::<String>(flag)
            .map(|v| Sourced { value: v.clone(), source: format!("--{flag}") })
            .or_else(|| env(var).map(|v| Sourced { value: v, source: format!("${var}") }))
    };
    let mut settings = Settings {
        account: from("account", "XPLENTY_ACCOUNT_ID"),
        key: from("api-key", "XPLENTY_API_KEY"),
        base_url: from("base-url", "XPLENTY_BASE_URL"),
        problem: None,
    };
    if settings.account.is_some() && settings.key.is_some() && settings.base_url.is_some() && !asked {
        return settings;
    }
    let Some(path) = path() else {
        if asked {
            settings.problem = Some(format!("no profile {name}: this platform has no config directory"));
        }
        return settings;
    };
    let profile = match load(&path) {
        Ok(config) => config.profiles.get(&name).cloned(),
        Err(e) => {
            settings.problem = Some(e.to_string());
            return settings;
        }
    };
    let Some(profile) = profile else {
        if asked {
            settings.problem = Some(format!(
                "no profile {name} in {}; create it with: xplenty auth login --profile {name}",
                path.display()
            ));
        }
        return settings;
    };
    let source = format!("profile {name} in {}", path.display());
    let sourced = |value: String| Sourced { value, source: source.clone() };
    settings.account = settings.account.or_else(|| Some(sourced(profile.account)));
    settings.key = settings.key.or_else(|| Some(sourced(profile.api_key)));
    settings.base_url = settings.base_url.or_else(|| profile.base_url.map(sourced));
    settings
}

/// `xplenty auth login|status|logout`.
pub fn command() -> Command {
    Command::new("auth")
        .about("Store, show or remove the account and API key of a profile")
        .long_about(
            "Store, show or remove the account and API key of a profile.\n\nProfiles live in config.toml in \
             the platform's config directory ($XDG_CONFIG_HOME/xplenty, else ~/.config/xplenty on Linux), \
             written owner-only (mode 0600). The profile is --profile NAME, else $XPLENTY_PROFILE, else \
             `default`. Each setting comes from its flag, else its environment variable, else the profile.",
        )
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("login")
                .about("Store an account and API key in a profile (asks for them; the key is not echoed)")
                .arg(
                    Arg::new("with-key-stdin")
                        .long("with-key-stdin")
                        .action(ArgAction::SetTrue)
                        .help("Read the API key from standard input (for scripts) instead of asking"),
                ),
        )
        .subcommand(
            Command::new("status").about("Say which account is used and where the key comes from (never the key)"),
        )
        .subcommand(Command::new("logout").about("Remove the profile from the config file"))
}

/// Runs `auth ...`; `m` is the matches of `auth`, `root` those of `xplenty` (global flags).
pub fn run(m: &ArgMatches) -> Result<Outcome, CliError> {
    let path =
        path().ok_or_else(|| CliError::Credentials("this platform has no config directory for profiles".to_owned()))?;
    let (name, _) = profile_name(m);
    match m.subcommand() {
        Some(("login", login)) => {
            let account = match login.get_one::<String>("account") {
                Some(account) => account.clone(),
                None => ask("Account id: ")?,
            };
            let key = if login.get_flag("with-key-stdin") {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                text.trim().to_owned()
            } else if let Some(key) = login.get_one::<String>("api-key") {
                key.clone()
            } else if std::io::stdin().is_terminal() {
                rpassword::prompt_password("API key (not shown): ")?.trim().to_owned()
            } else {
                return Err(CliError::Usage(
                    "no terminal to ask for the key on: give it with --with-key-stdin".to_owned(),
                ));
            };
            if account.is_empty() || key.is_empty() {
                return Err(CliError::Usage("the account and the key cannot be empty".to_owned()));
            }
            // Refused here rather than at the first call.
            xplenty_api::ClientBuilder::new(account.clone(), &key).build()?;
            let mut config = load(&path)?;
            let base_url = login.get_one::<String>("base-url").cloned();
            config.profiles.insert(name.clone(), Profile { account: account.clone(), api_key: key, base_url });
            save(&path, &config)?;
            rt::note(format!("stored account {account} as profile {name} in {}", path.display()));
            Ok(Outcome::Ok)
        }
        Some(("status", status)) => {
            let settings = settings(status);
            if let Some(problem) = &settings.problem {
                return Err(CliError::Credentials(problem.clone()));
            }
            let mut text = String::new();
            match &settings.account {
                Some(a) => text.push_str(&format!("account: {} (from {})\n", a.value, a.source)),
                None => text.push_str("account: none\n"),
            }
            match &settings.key {
                Some(k) => text.push_str(&format!("key: from {}\n", k.source)),
                None => text.push_str("key: none\n"),
            }
            if let Some(b) = &settings.base_url {
                text.push_str(&format!("base url: {} (from {})\n", b.value, b.source));
            }
            text.push_str(&format!("config: {}\n", path.display()));
            rt::out(text.as_bytes())?;
            if settings.account.is_none() || settings.key.is_none() {
                return Err(CliError::Credentials(
                    "not logged in: run xplenty auth login, or give --account and --api-key".to_owned(),
                ));
            }
            Ok(Outcome::Ok)
        }
        Some(("logout", _)) => {
            let mut config = load(&path)?;
            if config.profiles.remove(&name).is_none() {
                return Err(CliError::Input(format!("no profile {name} in {}", path.display())));
            }
            save(&path, &config)?;
            rt::note(format!("removed profile {name} from {}", path.display()));
            Ok(Outcome::Ok)
        }
        other => Err(CliError::unknown("auth", other.map(|(name, _)| name))),
    }
}

/// One line typed on standard input, after a prompt on stderr.
fn ask(prompt: &str) -> Result<String, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage("no terminal to ask on: give --account".to_owned()));
    }
    eprint!("{prompt}");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

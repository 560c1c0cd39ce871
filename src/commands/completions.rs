//! `slotscope completions SHELL` and `slotscope man`: generated from the command-line
//! definition, so they never drift from `--help`.

use std::io::Write as _;

use super::ExitCode;

/// Print the completion script for `shell` on stdout.
///
/// # Errors
/// stdout failed.
pub fn completions(shell: clap_complete::Shell) -> color_eyre::Result<ExitCode> {
    let mut cmd = crate::cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "slotscope", &mut out);
    std::io::stdout().write_all(&out)?;
    Ok(ExitCode::OK)
}

/// Print the manual page (roff) on stdout.
///
/// # Errors
/// stdout failed.
pub fn man() -> color_eyre::Result<ExitCode> {
    let mut out = Vec::new();
    clap_mangen::Man::new(crate::cli::command()).render(&mut out)?;
    std::io::stdout().write_all(&out)?;
    Ok(ExitCode::OK)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_shell_gets_a_script_that_names_the_flags() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
            clap_complete::Shell::Elvish,
            clap_complete::Shell::PowerShell,
        ] {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut crate::cli::command(), "slotscope", &mut out);
            let text = String::from_utf8_lossy(&out);
            assert!(text.contains("cacert") && text.contains("remap"), "{shell}");
        }
        let mut out = Vec::new();
        clap_mangen::Man::new(crate::cli::command())
            .render(&mut out)
            .expect("render");
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains(".TH slotscope") && text.contains("\\-\\-tls"),
            "{text}"
        );
    }
}

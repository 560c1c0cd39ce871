//! `--remap FROM=TO`: nodes announce addresses the engineer cannot reach (container networks,
//! NAT, a bastion's tunnels). Every connection slotscope makes goes to the remapped address,
//! while the model, the screen and the audit keep naming the node by what it announces.
//!
//! [`parse_remap`] is pure: `host:port=host:port` maps one endpoint, `host=host` a whole host
//! (the port is kept).

use crate::cluster::types::Endpoint;
use crate::refresh::target::parse_seed;

/// One rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remap {
    /// The announced host.
    pub from_host: String,
    /// The announced port; `None`: any port of that host.
    pub from_port: Option<u16>,
    /// The host to connect to instead.
    pub to_host: String,
    /// The port to connect to; `None`: the announced port.
    pub to_port: Option<u16>,
}

/// The rules, in the order given; an exact `host:port` rule wins over a whole-host rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemapTable(pub Vec<Remap>);

impl RemapTable {
    /// Parse every `FROM=TO`.
    ///
    /// # Errors
    /// The first rule that does not parse.
    pub fn parse<S: AsRef<str>>(rules: &[S]) -> Result<Self, String> {
        rules
            .iter()
            .map(|r| parse_remap(r.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether there is no rule.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Where to connect for the announced endpoint `ep` (itself when no rule applies).
    #[must_use]
    pub fn apply(&self, ep: &Endpoint) -> Endpoint {
        let exact = self
            .0
            .iter()
            .find(|r| r.from_port == Some(ep.port) && r.from_host.eq_ignore_ascii_case(&ep.host));
        let host = || {
            self.0
                .iter()
                .find(|r| r.from_port.is_none() && r.from_host.eq_ignore_ascii_case(&ep.host))
        };
        match exact.or_else(host) {
            Some(r) => Endpoint::new(r.to_host.clone(), r.to_port.unwrap_or(ep.port)),
            None => ep.clone(),
        }
    }
}

/// Parse one `FROM=TO` rule: `host:port=host:port`, `host=host`, `host:port=host` (same
/// port), with IPv6 hosts in brackets (`[fd00::5]:6379=127.0.0.1:16379`).
///
/// # Errors
/// No `=`, an empty side, a bad host or port, or `host=host:port` (a whole host cannot go to
/// one port).
pub fn parse_remap(rule: &str) -> Result<Remap, String> {
    let bad = |why: &str| {
        format!("--remap `{rule}`: {why}; write FROM=TO as host:port=host:port or host=host")
    };
    let (from, to) = rule.trim().split_once('=').ok_or_else(|| bad("no `=`"))?;
    let (from_host, from_port) = side(from).map_err(|e| bad(&e))?;
    let (to_host, to_port) = side(to).map_err(|e| bad(&e))?;
    if from_port.is_none() && to_port.is_some() {
        return Err(bad("a whole host cannot be remapped to one port"));
    }
    Ok(Remap {
        from_host,
        from_port,
        to_host,
        to_port,
    })
}

/// `host` or `host:port` (IPv6 in brackets); the port only when given.
fn side(s: &str) -> Result<(String, Option<u16>), String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("an empty side".to_owned());
    }
    if s.contains("://") || s.contains('@') {
        return Err("give addresses, not URLs".to_owned());
    }
    let (ep, _, _) = parse_seed(s).map_err(|e| e.to_string())?;
    let has_port = if s.starts_with('[') {
        s.contains("]:")
    } else {
        s.matches(':').count() == 1
    };
    Ok((ep.host, has_port.then_some(ep.port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse() {
        let r = parse_remap("10.0.0.5:6379=127.0.0.1:16379").unwrap();
        assert_eq!(
            r,
            Remap {
                from_host: "10.0.0.5".into(),
                from_port: Some(6379),
                to_host: "127.0.0.1".into(),
                to_port: Some(16379),
            }
        );
        let r = parse_remap("redis-0.svc=127.0.0.1").unwrap();
        assert_eq!((r.from_port, r.to_port), (None, None));
        let r = parse_remap("[fd00::5]:7000=[::1]:17000").unwrap();
        assert_eq!(
            (r.from_host.as_str(), r.to_host.as_str()),
            ("fd00::5", "::1")
        );
        for bad in [
            "",
            "a",
            "=b",
            "a=",
            "a=b:1",
            "a:x=b",
            "redis://a=b",
            "a:1=b:0",
        ] {
            assert!(parse_remap(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exact_rules_win_over_whole_hosts() {
        let t = RemapTable::parse(&["10.0.0.5=127.0.0.1", "10.0.0.5:7001=127.0.0.2:9"]).unwrap();
        assert_eq!(
            t.apply(&Endpoint::new("10.0.0.5", 7000)),
            Endpoint::new("127.0.0.1", 7000)
        );
        assert_eq!(
            t.apply(&Endpoint::new("10.0.0.5", 7001)),
            Endpoint::new("127.0.0.2", 9)
        );
        assert_eq!(
            t.apply(&Endpoint::new("10.0.0.6", 7001)),
            Endpoint::new("10.0.0.6", 7001)
        );
    }
}

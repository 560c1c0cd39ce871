//! Times in a recording: UTC words for the replay header and reports, and the `--at` /
//! `:goto` argument that names one refresh.

use std::fmt;
use std::str::FromStr;

/// Which refresh of a recording: see [`At::from_str`] for the forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// The n-th refresh, 1-based (as the replay header counts).
    Index(usize),
    /// The last refresh.
    Last,
    /// The last refresh started at or before this Unix ms.
    UnixMs(u64),
    /// Seconds after the first refresh started.
    Offset(u64),
    /// A UTC time of day (seconds after midnight), on the day the recording starts (or the
    /// day after, when that is earlier than the start).
    TimeOfDay(u64),
}

impl FromStr for At {
    type Err = String;

    /// `7` (the 7th refresh), `last`, `+90` (90 s after the start), `14:03` or `14:03:20`
    /// (UTC), `2025-06-01T14:03:20Z`, or Unix milliseconds (13 digits).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || {
            format!(
                "cannot read {s:?} as a refresh: give its number (1 is the first), last, +SECONDS \
                 after the start, HH:MM[:SS] (UTC), YYYY-MM-DDTHH:MM:SSZ or Unix milliseconds"
            )
        };
        if s.eq_ignore_ascii_case("last") || s.eq_ignore_ascii_case("end") {
            return Ok(Self::Last);
        }
        if let Some(off) = s.strip_prefix('+') {
            let off = off.strip_suffix('s').unwrap_or(off);
            return off.parse().map(Self::Offset).map_err(|_| bad());
        }
        if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
            let n: u64 = s.parse().map_err(|_| bad())?;
            return Ok(if s.len() >= 12 {
                Self::UnixMs(n)
            } else {
                Self::Index(usize::try_from(n).map_err(|_| bad())?)
            });
        }
        if let Some((date, time)) = s.split_once(['T', ' ']) {
            let mut d = date.split('-').map(str::parse::<i64>);
            let (Some(Ok(y)), Some(Ok(m)), Some(Ok(day)), None) =
                (d.next(), d.next(), d.next(), d.next())
            else {
                return Err(bad());
            };
            let secs = time_of_day(time.trim_end_matches('Z')).ok_or_else(bad)?;
            // A recording's times lie between 1970 and 9999; anything else is a typo, and
            // years far beyond would overflow the millisecond count.
            if !(1..=12).contains(&m) || !(1..=31).contains(&day) || !(1970..=9999).contains(&y) {
                return Err(bad());
            }
            let days = days_from_civil(y, m, day);
            let ms = u64::try_from(days)
                .ok()
                .and_then(|d| d.checked_mul(86_400_000))
                .and_then(|d| d.checked_add(secs * 1000))
                .ok_or_else(bad)?;
            return Ok(Self::UnixMs(ms));
        }
        time_of_day(s.trim_end_matches('Z'))
            .map(Self::TimeOfDay)
            .ok_or_else(bad)
    }
}

impl At {
    /// The 0-based index of the refresh this names, given each refresh's start (Unix ms,
    /// ascending).
    ///
    /// # Errors
    /// Nothing recorded, an index past the end, a time before the first refresh.
    pub fn resolve(&self, starts: &[u64]) -> Result<usize, String> {
        let n = starts.len();
        let (Some(&first), Some(&last)) = (starts.first(), starts.last()) else {
            return Err("the recording holds no refresh".into());
        };
        let at_ms = match *self {
            Self::Last => return Ok(n - 1),
            Self::Index(i) if (1..=n).contains(&i) => return Ok(i - 1),
            Self::Index(i) => {
                return Err(format!(
                    "refresh {i} is not in the recording (it holds refreshes 1 to {n})"
                ));
            }
            Self::UnixMs(ms) => ms,
            Self::Offset(s) => first.saturating_add(s.saturating_mul(1000)),
            Self::TimeOfDay(secs) => {
                let day = first / 86_400_000 * 86_400_000;
                let t = day + secs * 1000;
                if t + 999 < first { t + 86_400_000 } else { t }
            }
        };
        // A time given to the second names the refresh that started within that second.
        let at_ms = at_ms.saturating_add(999);
        match starts.iter().rposition(|&s| s <= at_ms) {
            Some(i) => Ok(i),
            None => Err(format!(
                "{} is before the recording starts ({}; it ends {})",
                utc(at_ms - 999),
                utc(first),
                utc(last)
            )),
        }
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Index(i) => write!(f, "refresh {i}"),
            Self::Last => f.write_str("the last refresh"),
            Self::UnixMs(ms) => f.write_str(&utc(*ms)),
            Self::Offset(s) => write!(f, "+{s}s"),
            Self::TimeOfDay(s) => write!(f, "{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60),
        }
    }
}

fn time_of_day(s: &str) -> Option<u64> {
    let mut parts = s.split(':');
    let h: u64 = parts.next()?.parse().ok()?;
    let m: u64 = parts.next()?.parse().ok()?;
    let sec: u64 = match parts.next() {
        Some(x) => x.split('.').next()?.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(h * 3600 + m * 60 + sec)
}

/// `2025-06-01 14:03:20Z` for a Unix ms.
#[must_use]
pub fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0));
    let t = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// `14:03:20Z` for a Unix ms.
#[must_use]
pub fn utc_time(ms: u64) -> String {
    let t = ms / 1000 % 86_400;
    format!("{:02}:{:02}:{:02}Z", t / 3600, t / 60 % 60, t % 60)
}

/// (year, month, day) of a day count since 1970-01-01, proleptic Gregorian (Howard Hinnant's
/// civil calendar algorithms; also used by the audit log's timestamps).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_words_and_round_trip() {
        assert_eq!(utc(0), "1970-01-01 00:00:00Z");
        assert_eq!(utc(1_748_786_600_000), "2025-06-01 14:03:20Z");
        assert_eq!(
            "2025-06-01T14:03:20Z".parse::<At>(),
            Ok(At::UnixMs(1_748_786_600_000))
        );
        assert_eq!(utc_time(1_748_786_600_123), "14:03:20Z");
    }

    #[test]
    fn a_date_far_beyond_any_recording_is_refused_not_overflowed() {
        // Found by the `at` fuzz target: the millisecond count overflowed and panicked.
        assert!("2036328000026-02-03T20:0:00001".parse::<At>().is_err());
        assert!("1969-12-31T23:59:59Z".parse::<At>().is_err());
        assert!("9999-12-31T23:59:59Z".parse::<At>().is_ok());
    }

    #[test]
    fn at_forms() {
        assert_eq!("3".parse::<At>(), Ok(At::Index(3)));
        assert_eq!("last".parse::<At>(), Ok(At::Last));
        assert_eq!("+90".parse::<At>(), Ok(At::Offset(90)));
        assert_eq!("14:03".parse::<At>(), Ok(At::TimeOfDay(14 * 3600 + 180)));
        assert_eq!(
            "1748786600000".parse::<At>(),
            Ok(At::UnixMs(1_748_786_600_000))
        );
        for bad in ["", "x", "25:00", "+x", "2025-13-01T00:00:00Z", "1:2:3:4"] {
            assert!(bad.parse::<At>().is_err(), "{bad}");
        }
    }

    #[test]
    fn resolve_picks_the_refresh_at_or_before() {
        let base = 1_748_786_600_000;
        let starts = [base, base + 2000, base + 4000];
        assert_eq!(At::Index(2).resolve(&starts), Ok(1));
        assert!(At::Index(4).resolve(&starts).is_err());
        assert!(At::Index(0).resolve(&starts).is_err());
        assert_eq!(At::Last.resolve(&starts), Ok(2));
        assert_eq!(At::Offset(3).resolve(&starts), Ok(1));
        assert_eq!(At::UnixMs(base + 4500).resolve(&starts), Ok(2));
        assert_eq!(
            At::TimeOfDay(14 * 3600 + 3 * 60 + 22).resolve(&starts),
            Ok(1)
        );
        assert!(At::UnixMs(base - 5000).resolve(&starts).is_err());
        assert!(At::Last.resolve(&[]).is_err());
    }
}

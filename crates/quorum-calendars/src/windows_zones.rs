//! Zone names as calendars write them, mapped to IANA zones: IANA names
//! themselves, Windows names (Outlook and Microsoft Graph) through the CLDR
//! `windowsZones` table, and the prefixed TZIDs some servers write
//! (`/mozilla.org/20050126_1/Europe/London`). No crate keeps this table
//! maintained for Rust, so the CLDR rows are embedded as data
//! (`windows_zones.tsv`).

use chrono_tz::Tz;
use std::collections::HashMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("windows_zones.tsv");

fn table() -> &'static HashMap<&'static str, &'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| l.split_once('\t'))
            .collect()
    })
}

/// The IANA zone CLDR gives for a Windows zone name ("Pacific Standard
/// Time" → America/Los_Angeles).
pub fn windows_to_iana(windows_name: &str) -> Option<Tz> {
    table().get(windows_name.trim())?.parse().ok()
}

/// Any zone name a calendar may use: IANA, Windows, or an IANA name behind a
/// vendor prefix. `None` when it names no zone Quorum knows.
pub fn zone_by_name(name: &str) -> Option<Tz> {
    let name = name.trim().trim_matches('"');
    if let Ok(zone) = name.parse::<Tz>() {
        return Some(zone);
    }
    if let Some(zone) = windows_to_iana(name) {
        return Some(zone);
    }
    // Vendor-prefixed TZIDs end in an IANA name of two or three parts.
    let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty()).collect();
    (2..=3)
        .filter(|n| parts.len() > *n)
        .find_map(|n| parts[parts.len() - n..].join("/").parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cldr_row_names_a_zone_chrono_tz_knows() {
        let rows: Vec<_> = table().iter().collect();
        assert!(rows.len() > 130, "the CLDR table has some 140 rows");
        for (windows, iana) in rows {
            assert!(iana.parse::<Tz>().is_ok(), "{windows} -> {iana}");
        }
    }

    #[test]
    fn windows_names_map_to_their_cldr_zones() {
        let cases = [
            ("Pacific Standard Time", "America/Los_Angeles"),
            ("Eastern Standard Time", "America/New_York"),
            ("GMT Standard Time", "Europe/London"),
            ("W. Europe Standard Time", "Europe/Berlin"),
            ("India Standard Time", "Asia/Calcutta"),
            ("Nepal Standard Time", "Asia/Katmandu"),
            ("Lord Howe Standard Time", "Australia/Lord_Howe"),
            ("AUS Eastern Standard Time", "Australia/Sydney"),
            ("UTC", "Etc/UTC"),
        ];
        for (windows, iana) in cases {
            assert_eq!(
                windows_to_iana(windows).map(|z| z.name()),
                Some(iana),
                "{windows}"
            );
        }
        assert_eq!(windows_to_iana("Mars Standard Time"), None);
    }

    #[test]
    fn prefixed_and_iana_names_resolve() {
        assert_eq!(
            zone_by_name("/mozilla.org/20050126_1/Europe/London"),
            Some(chrono_tz::Europe::London)
        );
        assert_eq!(
            zone_by_name("/citadel.org/20190101_1/America/Argentina/Buenos_Aires"),
            Some(chrono_tz::America::Argentina::Buenos_Aires)
        );
        assert_eq!(
            zone_by_name("Asia/Kathmandu"),
            Some(chrono_tz::Asia::Kathmandu)
        );
        assert_eq!(zone_by_name("Customized Time Zone"), None);
    }
}

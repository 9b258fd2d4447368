//! The demo organisation, as fixed lists: its people, their devices and where they connect from,
//! and its roles. Addresses are from the documentation ranges only (RFC 5737: 192.0.2.0/24,
//! 198.51.100.0/24, 203.0.113.0/24; RFC 3849: 2001:db8::/32), names and mail at `example.org`.

/// The roles the demo adds to `admin` and `user`, with their descriptions.
pub const ROLES: &[(&str, &str)] = &[
    (
        "auditor",
        "Read-only access to the audit trail, for compliance reviews",
    ),
    (
        "billing",
        "Invoices and payment history in the billing service",
    ),
    (
        "support",
        "Customer support: looks up accounts, ends sessions on request",
    ),
];

/// A client program, with the user agent it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    FirefoxLinux,
    ChromeWindows,
    EdgeWindows,
    SafariMac,
    SafariIphone,
    ChromeAndroid,
    IosApp,
    AndroidApp,
    Curl,
    PythonSdk,
}

/// Where a device connects from, which decides its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A laptop or desktop: the office's NAT address on working days, home otherwise.
    Desk,
    /// A phone on a mobile network: a different address from day to day.
    Phone,
    /// A server in the data centre.
    Server,
}

impl Device {
    pub fn user_agent(self) -> &'static str {
        match self {
            Self::FirefoxLinux => {
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
            }
            Self::ChromeWindows => {
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Safari/537.36"
            }
            Self::EdgeWindows => {
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87"
            }
            Self::SafariMac => {
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like \
                 Gecko) Version/17.5 Safari/605.1.15"
            }
            Self::SafariIphone => {
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, \
                 like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
            }
            Self::ChromeAndroid => {
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.6478.71 Mobile Safari/537.36"
            }
            Self::IosApp => "ExampleOrg/3.2.1 (iPhone; iOS 17.5; Scale/3.00) CFNetwork/1496.0.7",
            Self::AndroidApp => "okhttp/4.12.0",
            Self::Curl => "curl/8.5.0",
            Self::PythonSdk => "python-requests/2.32.3",
        }
    }

    pub fn place(self) -> Place {
        match self {
            Self::FirefoxLinux | Self::ChromeWindows | Self::EdgeWindows | Self::SafariMac => {
                Place::Desk
            }
            Self::SafariIphone | Self::ChromeAndroid | Self::IosApp | Self::AndroidApp => {
                Place::Phone
            }
            Self::Curl | Self::PythonSdk => Place::Server,
        }
    }
}

/// The office's address as the service sees it (one NAT for everyone in the building).
pub const OFFICE: &str = "198.51.100.23";

/// One account of the organisation.
pub struct Person {
    pub username: &'static str,
    pub email: Option<&'static str>,
    /// Roles besides `user`.
    pub roles: &'static [&'static str],
    /// The first is the one used most.
    pub devices: &'static [Device],
    /// Chance, in percent, that this person signs in on a working day.
    pub activity: u32,
    /// Usual hour (UTC) of the first sign-in of the day.
    pub hour: u32,
    /// How many days ago the account was created.
    pub joined: i64,
}

use Device::*;

const fn person(
    username: &'static str,
    email: &'static str,
    roles: &'static [&'static str],
    devices: &'static [Device],
    activity: u32,
    hour: u32,
    joined: i64,
) -> Person {
    Person {
        username,
        email: Some(email),
        roles,
        devices,
        activity,
        hour,
        joined,
    }
}

/// The demo administrator, whom the screenshots sign in as: the first person of `PEOPLE`.
pub const ADMIN: &str = "mgarcia";

/// Everyone, in the order they are written (the first is the demo administrator).
#[rustfmt::skip]
pub const PEOPLE: &[Person] = &[
    person("mgarcia", "maria.garcia@example.org", &["admin"], &[FirefoxLinux, SafariIphone], 90, 7, 412),
    person("jokafor", "james.okafor@example.org", &["admin"], &[SafariMac, IosApp, Curl], 85, 8, 398),
    person("praman", "priya.raman@example.org", &["support"], &[ChromeWindows, SafariIphone], 70, 8, 301),
    person("tbecker", "tom.becker@example.org", &["support"], &[FirefoxLinux, AndroidApp], 65, 7, 287),
    person("atanaka", "aiko.tanaka@example.org", &["support"], &[SafariMac, IosApp], 55, 0, 260),
    person("fhaddad", "fatima.haddad@example.org", &["support"], &[EdgeWindows, ChromeAndroid], 60, 9, 198),
    person("kmensah", "kofi.mensah@example.org", &["support"], &[ChromeWindows, AndroidApp], 50, 8, 61),
    person("lmoreau", "lucas.moreau@example.org", &["billing"], &[SafariMac, SafariIphone], 50, 8, 355),
    person("srossi", "sofia.rossi@example.org", &["billing"], &[ChromeWindows], 45, 7, 240),
    person("asilva", "ana.silva@example.org", &["billing"], &[FirefoxLinux, ChromeAndroid], 40, 10, 175),
    person("onowak", "olga.nowak@example.org", &["billing"], &[EdgeWindows], 35, 7, 90),
    person("dkim", "daniel.kim@example.org", &["auditor"], &[SafariMac], 25, 13, 330),
    person("hschmidt", "hannah.schmidt@example.org", &["auditor"], &[FirefoxLinux], 20, 8, 120),
    person("ejohansson", "emma.johansson@example.org", &[], &[FirefoxLinux, SafariIphone], 45, 7, 380),
    person("nwilliams", "noah.williams@example.org", &[], &[ChromeWindows, AndroidApp], 40, 14, 344),
    person("osmith", "oliver.smith@example.org", &[], &[ChromeWindows], 35, 9, 310),
    person("wchen", "wei.chen@example.org", &[], &[SafariMac, IosApp], 45, 1, 295),
    person("lobrien", "liam.obrien@example.org", &[], &[FirefoxLinux], 30, 9, 270),
    person("zmartin", "zoe.martin@example.org", &[], &[SafariMac, SafariIphone, FirefoxLinux], 40, 8, 250),
    person("mfernandez", "mateo.fernandez@example.org", &[], &[ChromeWindows, ChromeAndroid], 35, 11, 233),
    person("rpatel", "ravi.patel@example.org", &[], &[FirefoxLinux, PythonSdk], 50, 5, 210),
    person("glee", "grace.lee@example.org", &[], &[SafariMac, IosApp], 30, 15, 187),
    person("icosta", "isabela.costa@example.org", &[], &[EdgeWindows, ChromeAndroid], 30, 11, 150),
    person("npetrova", "nina.petrova@example.org", &[], &[FirefoxLinux], 25, 6, 133),
    person("scohen", "samuel.cohen@example.org", &[], &[ChromeWindows, SafariIphone], 30, 8, 101),
    person("ebrown", "ethan.brown@example.org", &[], &[ChromeWindows, SafariIphone], 40, 8, 366),
    person("cdubois", "clara.dubois@example.org", &[], &[SafariMac], 0, 8, 290),
    person("ysato", "yuki.sato@example.org", &[], &[SafariMac, IosApp], 60, 0, 11),
    person("ahassan", "ahmed.hassan@example.org", &[], &[ChromeWindows], 70, 8, 2),
    Person { username: "ci-deploy", email: None, roles: &[], devices: &[Curl], activity: 0, hour: 2, joined: 200 },
    Person { username: "billing-export", email: Some("billing-export@example.org"), roles: &["billing"], devices: &[PythonSdk], activity: 0, hour: 5, joined: 160 },
];

/// The index of `username` in `PEOPLE`.
pub fn index_of(username: &str) -> usize {
    PEOPLE
        .iter()
        .position(|p| p.username == username)
        .unwrap_or_else(|| panic!("{username} is not in the demo organisation"))
}

/// The address `person` (an index of `PEOPLE`) connects from with `device` on `day` (days since
/// the epoch), at the office or not.
pub fn address(person: usize, device: Device, day: i64, at_office: bool) -> String {
    let n = person as i64;
    match device.place() {
        Place::Desk if at_office => OFFICE.to_owned(),
        // Every third person's home line is IPv6 only.
        Place::Desk if n % 3 == 2 => format!("2001:db8:4a{n:02x}:1::{:x}", 0x20 + n),
        Place::Desk => format!("192.0.2.{}", 10 + n * 7 % 230),
        Place::Phone => format!("203.0.113.{}", 20 + (n * 13 + day * 7) % 200),
        Place::Server => format!("198.51.100.{}", 70 + n % 10),
    }
}

//! IP address ranges for `IpAddress` / `NotIpAddress` (RFC 4632 CIDR, IPv4 and IPv6).

use std::net::IpAddr;

/// A CIDR block; an address without `/n` is a single host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cidr {
    V4(u32, u8),
    V6(u128, u8),
}

impl Cidr {
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let prefix = |max: u8| -> Option<u8> {
            match len {
                None => Some(max),
                Some(l)
                    if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    l.parse::<u8>().ok().filter(|n| *n <= max)
                }
                Some(_) => None,
            }
        };
        match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => Some(Cidr::V4(u32::from(a), prefix(32)?)),
            IpAddr::V6(a) => Some(Cidr::V6(u128::from(a), prefix(128)?)),
        }
    }

    /// Does the block contain `ip`? An IPv4-mapped IPv6 address counts as IPv4.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (*self, ip) {
            (Cidr::V4(net, len), IpAddr::V4(a)) => {
                let mask = if len == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(len))
                };
                (u32::from(a) & mask) == (net & mask)
            }
            (Cidr::V6(net, len), IpAddr::V6(a)) => {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(len))
                };
                (u128::from(a) & mask) == (net & mask)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cidr;

    fn c(s: &str) -> Cidr {
        Cidr::parse(s).unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn ranges() {
        assert!(c("203.0.113.0/24").contains("203.0.113.7".parse().unwrap()));
        assert!(!c("203.0.113.0/24").contains("203.0.114.7".parse().unwrap()));
        assert!(c("10.1.2.3").contains("10.1.2.3".parse().unwrap()));
        assert!(!c("10.1.2.3").contains("10.1.2.4".parse().unwrap()));
        assert!(c("0.0.0.0/0").contains("8.8.8.8".parse().unwrap()));
        assert!(!c("0.0.0.0/0").contains("::1".parse().unwrap()));
        assert!(c("2001:db8::/32").contains("2001:db8:1::5".parse().unwrap()));
        assert!(!c("2001:db8::/32").contains("2001:db9::5".parse().unwrap()));
        assert!(c("192.0.2.0/24").contains("::ffff:192.0.2.1".parse().unwrap()));
        assert!(c("::/0").contains("::1".parse().unwrap()));
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4/33",
            "1.2.3.4/",
            "::/129",
            "x/1",
            "1.2.3.4/+1",
            "1.2.3.4/a",
        ] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }
}

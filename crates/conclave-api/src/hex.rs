//! Byte strings on the wire: lowercase hex.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes serialized as a lowercase hex string (either case is accepted on input).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hex(pub Vec<u8>);

impl Hex {
    /// Parses hex (either case, no prefix).
    pub fn parse(s: &str) -> Result<Self, String> {
        ::hex::decode(s).map(Hex).map_err(|e| format!("not hex: {e}"))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as a fixed-size array, if the length matches.
    pub fn to_array<const N: usize>(&self) -> Option<[u8; N]> {
        self.0.as_slice().try_into().ok()
    }
}

impl core::fmt::Display for Hex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&::hex::encode(&self.0))
    }
}

impl core::fmt::Debug for Hex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Hex({self})")
    }
}

impl From<Vec<u8>> for Hex {
    fn from(v: Vec<u8>) -> Self {
        Hex(v)
    }
}

impl From<&[u8]> for Hex {
    fn from(v: &[u8]) -> Self {
        Hex(v.to_vec())
    }
}

impl<const N: usize> From<[u8; N]> for Hex {
    fn from(v: [u8; N]) -> Self {
        Hex(v.to_vec())
    }
}

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&::hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Hex;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a hex string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Hex, E> {
                Hex::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lowercase_out_either_case_in() {
        let h = Hex(vec![0xAB, 0x01]);
        assert_eq!(serde_json::to_string(&h).unwrap(), "\"ab01\"");
        assert_eq!(serde_json::from_str::<Hex>("\"AB01\"").unwrap(), h);
        assert!(serde_json::from_str::<Hex>("\"abc\"").is_err());
        assert!(serde_json::from_str::<Hex>("\"0x01\"").is_err());
        assert!(serde_json::from_str::<Hex>("12").is_err());
    }
}

//! The random source of the jitter (retry backoff, reconnect delays): xorshift64, seeded once
//! by the edge (`Math.random()`), a fixed sequence in tests. Not for anything secret.

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// A uniform draw in [0, 1).
    pub fn next01(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_stay_in_range() {
        let mut r = super::Rng::new(0);
        for _ in 0..10_000 {
            let x = r.next01();
            assert!((0.0..1.0).contains(&x));
        }
    }
}

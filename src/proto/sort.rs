//! A heapsort: O(n log n), in place, a few hundred bytes of wasm per use where
//! core's stable sort costs ~3 KB per element type. Not stable: every caller
//! sorts by a total order on unique keys, where stability changes nothing.

/// Sorts `v` ascending by `less`.
pub fn sort_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    let n = v.len();
    for start in (0..n / 2).rev() {
        sift_down(v, start, n, &mut less);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end, &mut less);
    }
}

fn sift_down<T>(v: &mut [T], mut root: usize, end: usize, less: &mut impl FnMut(&T, &T) -> bool) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[root], &v[child]) {
            return;
        }
        v.swap(root, child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_core() {
        let mut x: u64 = 7;
        for len in 0..200 {
            let mut v: Vec<u64> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x % 50
                })
                .collect();
            let mut want = v.clone();
            want.sort();
            sort_by(&mut v, |a, b| a < b);
            assert_eq!(v, want);
        }
        let mut f = vec![3.5, -0.0, f64::NAN, 0.0, -1.0, f64::INFINITY];
        sort_by(&mut f, |a, b| a.total_cmp(b).is_lt());
        assert_eq!(format!("{f:?}"), "[-1.0, -0.0, 0.0, 3.5, inf, NaN]");
    }
}

//! A client's realtime connections by key, with the handles that joined each: the first
//! `connect()` with a key creates the connection (its transport options win); later ones join
//! it; the last handle to leave closes it. A connection that ended for good is forgotten by its
//! key at once (so a new `connect()` starts afresh) but stays joined by its handles until they
//! leave or reconnect.

use crate::proto::map::Map;

#[derive(Debug)]
struct Entry<C, S> {
    id: u32,
    conn: C,
    subs: Vec<(u32, S)>,
}

#[derive(Debug)]
pub struct Registry<C, S> {
    /// By key: the connections a `connect()` joins.
    live: Map<Entry<C, S>>,
    /// Forgotten after a fatal end, still held by handles.
    detached: Vec<Entry<C, S>>,
    ids: u32,
}

/// A handle's place: which connection, and which subscriber it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    pub conn: u32,
    pub sub: u32,
}

impl<C: Clone, S: Clone> Registry<C, S> {
    pub fn new() -> Self {
        Self { live: Map::new(), detached: Vec::new(), ids: 0 }
    }

    /// Joins the connection of `key`, or creates it with `make` (given its id). Without a key,
    /// a connection of its own, under `{prefix}#{n}`. Returns the ticket, the connection, and
    /// whether it was created.
    pub fn join<E>(&mut self, key: Option<&str>, prefix: &str, sub: S, make: impl FnOnce(u32) -> Result<C, E>) -> Result<(Ticket, C, bool), E> {
        self.ids += 1;
        let sub_id = self.ids;
        let key = key.map_or_else(
            || {
                let mut k = String::from(prefix);
                k.push('#');
                crate::proto::num::write_u64(&mut k, u64::from(sub_id));
                k
            },
            String::from,
        );
        let key = key.as_str();
        if let Some(e) = self.live.get_mut(key) {
            e.subs.push((sub_id, sub));
            return Ok((Ticket { conn: e.id, sub: sub_id }, e.conn.clone(), false));
        }
        self.ids += 1;
        let id = self.ids;
        let conn = make(id)?;
        self.live.insert(key.into(), Entry { id, conn: conn.clone(), subs: vec![(sub_id, sub)] });
        Ok((Ticket { conn: id, sub: sub_id }, conn, true))
    }

    fn key_of(&self, conn: u32) -> Option<String> {
        self.live.iter().find(|(_, e)| e.id == conn).map(|(k, _)| k.clone())
    }

    fn entry(&mut self, conn: u32) -> Option<&mut Entry<C, S>> {
        match self.key_of(conn) {
            Some(k) => self.live.get_mut(&k),
            None => self.detached.iter_mut().find(|e| e.id == conn),
        }
    }

    /// A handle leaves; returns the connection when it was the last, to be closed.
    pub fn leave(&mut self, t: Ticket) -> Option<C> {
        let e = self.entry(t.conn)?;
        e.subs.retain(|(id, _)| *id != t.sub);
        if !e.subs.is_empty() {
            return None;
        }
        let conn = e.conn.clone();
        if let Some(k) = self.key_of(t.conn) {
            self.live.remove(&k);
        }
        self.detached.retain(|e| e.id != t.conn);
        Some(conn)
    }

    /// The connection ended for good: its key is free; its handles stay until they leave.
    pub fn forget(&mut self, conn: u32) {
        if let Some(k) = self.key_of(conn) {
            if let Some(e) = self.live.remove(&k) {
                self.detached.push(e);
            }
        }
    }

    /// The subscribers of a connection, as they are now (a copy: callbacks may join or leave).
    pub fn subscribers(&mut self, conn: u32) -> Vec<S> {
        self.entry(conn).map(|e| e.subs.iter().map(|(_, s)| s.clone()).collect()).unwrap_or_default()
    }

    /// Connections a `connect()` can join.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }
}

impl<C: Clone, S: Clone> Default for Registry<C, S> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type R = Registry<&'static str, char>;

    fn join(r: &mut R, key: &str, sub: char, conn: &'static str) -> (Ticket, &'static str, bool) {
        r.join(Some(key), "", sub, |_| Ok::<_, ()>(conn)).unwrap()
    }

    #[test]
    fn the_first_connect_creates_later_ones_join_the_last_leave_closes() {
        let mut r = R::new();
        let (a, c1, created) = join(&mut r, "k", 'a', "first");
        assert!(created);
        let (b, c2, created) = join(&mut r, "k", 'b', "second's options");
        assert_eq!((c1, c2, created), ("first", "first", false), "the first connect's transport wins");
        assert_eq!(r.subscribers(a.conn), vec!['a', 'b']);
        assert_eq!(r.leave(a), None);
        assert_eq!(r.leave(a), None, "leaving twice changes nothing");
        assert_eq!(r.subscribers(a.conn), vec!['b']);
        assert_eq!(r.leave(b), Some("first"));
        assert!(r.is_empty());
        let (_, c3, created) = join(&mut r, "k", 'c', "third");
        assert_eq!((c3, created), ("third", true));
    }

    #[test]
    fn a_forgotten_connection_frees_its_key_but_keeps_its_handles() {
        let mut r = R::new();
        let (a, _, _) = join(&mut r, "k", 'a', "dead");
        let (b, _, _) = join(&mut r, "k", 'b', "dead");
        r.forget(a.conn);
        assert_eq!(r.len(), 0);
        let (n, c, created) = join(&mut r, "k", 'n', "fresh");
        assert_eq!((c, created), ("fresh", true));
        assert_eq!(r.subscribers(a.conn), vec!['a', 'b'], "the dead one's handles still hear of it");
        assert_eq!(r.leave(a), None);
        assert_eq!(r.leave(b), Some("dead"));
        assert_eq!(r.subscribers(n.conn), vec!['n']);
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn a_failed_creation_registers_nothing() {
        let mut r = R::new();
        assert_eq!(r.join(Some("k"), "", 'a', |_| Err::<&str, _>("bad option")), Err("bad option"));
        assert!(r.is_empty());
        let (a, _, _) = r.join(None, "a/b", 'x', |_| Ok::<_, ()>("own")).unwrap();
        let (b, _, created) = r.join(None, "a/b", 'y', |_| Ok::<_, ()>("own too")).unwrap();
        assert!(created && a.conn != b.conn, "without a key, a connection of its own");
    }
}

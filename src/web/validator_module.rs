//! The web edge of the validator module alone (pkg/genwire_validate_bg.wasm, built with the
//! `validator` feature and without `client`): the exports of `validator` and the two modules
//! they use. Everything else of the edge is the core module's.
#![allow(dead_code)]

mod conv;
mod js;
mod validator;

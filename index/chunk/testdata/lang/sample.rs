use std::fmt;

/// A point.
#[derive(Debug)]
pub struct Point {
    x: i32,
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.x)
    }
}

impl Point {
    pub fn new() -> Self {
        Point { x: 0 }
    }
}

pub trait Shape {
    fn area(&self) -> f64;
}

mod inner {
    pub fn helper() {}
}

const MAX: usize = 10;

enum Kind { A, B }

fn main() {
    println!("hi");
}

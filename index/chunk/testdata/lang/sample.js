import fs from "fs";

const x = 1;

/** Adds numbers. */
function add(a, b) {
  return a + b;
}

export class Widget extends Base {
  constructor(el) {
    super();
    this.el = el;
  }

  render() {
    return this.el;
  }

  static create() { return new Widget(); }
}

export const arrow = (a) => {
  return a * 2;
};

module.exports = { add };

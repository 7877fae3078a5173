import { Foo } from "./foo";

export interface Shape {
  area(): number;
  name: string;
}

type ID = string | number;

enum Color { Red, Green }

namespace Geo {
  export class Circle implements Shape {
    constructor(private r: number) {}
    area(): number {
      return Math.PI * this.r * this.r;
    }
    name = "circle";
  }
}

export function make(r: number): Shape {
  return new Geo.Circle(r);
}

export abstract class Base {
  abstract run(): void;
}

#!/bin/bash
set -e

greet() {
  echo "hi $1"
}

function build {
  make all
}

greet world

package com.example

import kotlin.math.max

data class Point(val x: Int, val y: Int)

class Greeter(val name: String) {
    fun greet(): String {
        return "Hello $name"
    }

    companion object {
        fun create() = Greeter("x")
    }
}

object Registry {
    val items = mutableListOf<String>()
}

fun topLevel(a: Int): Int {
    return a * 2
}

interface Shape {
    fun area(): Double
}

val constant = 42

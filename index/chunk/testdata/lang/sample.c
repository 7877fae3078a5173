#include <stdio.h>
#define MAX 10

typedef struct point {
    int x;
} point_t;

struct node {
    struct node *next;
};

static int counter = 0;

/* Adds. */
int add(int a, int b) {
    return a + b;
}

static char *name_of(struct node *n) {
    return "x";
}

enum color { RED, GREEN };

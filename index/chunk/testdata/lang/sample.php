<?php
namespace App\Models;

use Foo\Bar;

const LIMIT = 5;

function helper($x) {
    return $x + 1;
}

class User extends Model {
    private $name;

    public function getName() {
        return $this->name;
    }
}

interface Repo {
    public function find($id);
}

trait Loggable {
    public function log($m) {}
}

#include <vector>

namespace geo {

class Shape {
public:
    virtual double area() const = 0;
    void print() {
        std::cout << "x";
    }
private:
    int id_;
};

template <typename T>
T max_of(T a, T b) {
    return a > b ? a : b;
}

}  // namespace geo

double geo::Circle::area() const {
    return 3.14;
}

struct Plain {
    int x;
};

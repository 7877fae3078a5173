require "json"

module Outer
  class Widget < Base
    attr_reader :name

    def initialize(name)
      @name = name
    end

    def self.build
      new("x")
    end
  end
end

class Outer::Other
  def run; end
end

def top_level
  puts "hi"
end

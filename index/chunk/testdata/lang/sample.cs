using System;

namespace App.Core
{
    /// <summary>Service.</summary>
    public class Service : IService
    {
        private int _n;

        public Service(int n)
        {
            _n = n;
        }

        public int Count { get; set; }

        public void Run()
        {
            Console.WriteLine("x");
        }
    }

    public interface IService
    {
        void Run();
    }

    public enum Mode { A, B }

    public struct Pair { public int A; }
}

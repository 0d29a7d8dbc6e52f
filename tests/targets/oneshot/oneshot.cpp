// oneshot.cpp: a C++ program that leaks through new and exits at once, for
// tests/cases/oneshot.sh: 50 Nodes (208 bytes each) made by make_node() and kept,
// 500 more made and deleted.
#include <cstdio>
#include <vector>

struct Node {
	char pad[200];
	Node *next;
};

__attribute__((noinline)) Node *make_node() { return new Node(); }

__attribute__((noinline)) void keep(std::vector<Node *> &v)
{
	for (int i = 0; i < 50; i++)
		v.push_back(make_node());
}

int main()
{
	static std::vector<Node *> v;

	v.reserve(64);
	keep(v);
	for (int i = 0; i < 500; i++)
		delete new Node();
	std::printf("oneshot: done\n");
	return 0;
}

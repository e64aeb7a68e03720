"""Test helpers shared by every test folder: the network guard, model builders, server runner."""

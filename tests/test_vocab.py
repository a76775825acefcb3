import pytest

from rnnlab.errors import UserError
from rnnlab.vocab import Vocab


def test_encode_decode_round_trip():
    vocab = Vocab.from_text(["hello world", "xyz"])
    ids = vocab.encode("hello xyz")
    assert vocab.decode(ids) == "hello xyz"
    assert vocab.chars == "".join(sorted(set("hello worldxyz")))


def test_serialisation_round_trip():
    vocab = Vocab("ab\n\té", unk="é")
    assert Vocab.from_dict(vocab.to_dict()) == vocab


def test_unknown_character_is_an_error_naming_it_and_its_position():
    vocab = Vocab("ABC")
    with pytest.raises(UserError, match=r"'z' \(U\+007A\) at position 2"):
        vocab.encode("ABz")


def test_unknown_character_maps_to_unk_when_configured():
    vocab = Vocab("AB?", unk="?")
    assert vocab.decode(vocab.encode("AzB")) == "A?B"


def test_unknown_chars_lists_each_once_in_order():
    assert Vocab("AB").unknown_chars("AxByx") == ["x", "y"]


@pytest.mark.parametrize("chars, unk", [("", None), ("AA", None), ("AB", "C")])
def test_invalid_vocabularies_are_rejected(chars, unk):
    with pytest.raises(UserError):
        Vocab(chars, unk=unk)

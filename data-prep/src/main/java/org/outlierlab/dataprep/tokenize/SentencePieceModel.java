package org.outlierlab.dataprep.tokenize;

import java.util.ArrayList;
import java.util.List;

/** The parts of a SentencePiece {@code .model} file (a {@code ModelProto}) that encoding needs. */
final class SentencePieceModel {
  enum Type {
    UNIGRAM,
    BPE
  }

  // Piece types of sentencepiece_model.proto.
  static final int NORMAL = 1;
  static final int UNKNOWN = 2;
  static final int CONTROL = 3;
  static final int USER_DEFINED = 4;
  static final int UNUSED = 5;
  static final int BYTE = 6;

  final List<String> pieces = new ArrayList<>();
  final List<Float> scores = new ArrayList<>();
  final List<Integer> types = new ArrayList<>();
  Type type = Type.UNIGRAM;
  boolean byteFallback;
  boolean treatWhitespaceAsSuffix;
  int unkId;
  int eosId = 2;
  String normalizerName = "";
  byte[] precompiledCharsMap = new byte[0];
  boolean addDummyPrefix = true;
  boolean removeExtraWhitespaces = true;
  boolean escapeWhitespaces = true;

  static SentencePieceModel parse(byte[] bytes) {
    SentencePieceModel m = new SentencePieceModel();
    ProtoReader model = new ProtoReader(bytes);
    while (model.next()) {
      switch (model.field()) {
        case 1 -> m.readPiece(model.message());
        case 2 -> m.readTrainerSpec(model.message());
        case 3 -> m.readNormalizerSpec(model.message());
        default -> model.skip();
      }
    }
    if (m.pieces.isEmpty()) {
      throw new IllegalArgumentException("not a SentencePiece model: it has no pieces");
    }
    return m;
  }

  private void readPiece(ProtoReader p) {
    String piece = "";
    float score = 0;
    int pieceType = NORMAL;
    while (p.next()) {
      switch (p.field()) {
        case 1 -> piece = p.string();
        case 2 -> score = p.float32();
        case 3 -> pieceType = (int) p.varint();
        default -> p.skip();
      }
    }
    pieces.add(piece);
    scores.add(score);
    types.add(pieceType);
  }

  private void readTrainerSpec(ProtoReader t) {
    while (t.next()) {
      switch (t.field()) {
        case 3 -> {
          int modelType = (int) t.varint();
          if (modelType == 1) {
            type = Type.UNIGRAM;
          } else if (modelType == 2) {
            type = Type.BPE;
          } else {
            throw new IllegalArgumentException(
                "SentencePiece model type " + modelType + " (word/char) is not supported; supported: unigram, bpe");
          }
        }
        case 24 -> treatWhitespaceAsSuffix = t.varint() != 0;
        case 35 -> byteFallback = t.varint() != 0;
        case 40 -> unkId = (int) t.varint();
        case 42 -> eosId = (int) t.varint();
        default -> t.skip();
      }
    }
  }

  private void readNormalizerSpec(ProtoReader n) {
    while (n.next()) {
      switch (n.field()) {
        case 1 -> normalizerName = n.string();
        case 2 -> precompiledCharsMap = n.bytes();
        case 3 -> addDummyPrefix = n.varint() != 0;
        case 4 -> removeExtraWhitespaces = n.varint() != 0;
        case 5 -> escapeWhitespaces = n.varint() != 0;
        default -> n.skip();
      }
    }
  }
}

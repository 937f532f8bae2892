package org.outlierlab.dataprep.tokenize;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Which tokeniser to build, with its file's bytes: read once on the driver and shipped with the tasks, so
 * executors never need the file. {@code location} is "bytes" or the file's path.
 */
public record TokenizerSpec(Kind kind, String location, byte[] file, String eodToken) implements Serializable {

  public enum Kind {
    BYTES,
    HUGGINGFACE,
    SENTENCEPIECE
  }

  public static final String ALLOWED = "'bytes', a Hugging Face tokenizer.json (*.json) or a SentencePiece model (*.model)";

  /** The kind a {@code data_prep.tokenizer} value names, or null if it names none. */
  public static Kind kindOf(String location) {
    String lower = location.toLowerCase(Locale.ROOT);
    if (lower.equals("bytes")) {
      return Kind.BYTES;
    }
    if (lower.endsWith(".json")) {
      return Kind.HUGGINGFACE;
    }
    if (lower.endsWith(".model")) {
      return Kind.SENTENCEPIECE;
    }
    return null;
  }

  /** Tokenizers built on this thread, by file hash: a task thread builds GPT-2's once, not once per task. */
  private static final ThreadLocal<java.util.Map<String, Tokenizer>> BUILT =
      ThreadLocal.withInitial(java.util.HashMap::new);

  /** This thread's tokenizer for the spec, built on first use (tokenizers are not thread-safe). */
  public Tokenizer forThisThread() {
    return BUILT.get().computeIfAbsent(kind + ":" + sha256() + ":" + eodToken, k -> create());
  }

  public Tokenizer create() {
    try {
      return switch (kind) {
        case BYTES -> new ByteTokenizer();
        case HUGGINGFACE -> ByteLevelBpeTokenizer.load(file, eodToken);
        case SENTENCEPIECE -> SentencePieceTokenizer.load(file);
      };
    } catch (IOException e) {
      throw new UncheckedIOException("cannot parse tokenizer " + location + ": " + e.getMessage(), e);
    }
  }

  /** SHA-256 of the tokenizer file (of the word "bytes" for the byte tokeniser). */
  public String sha256() {
    try {
      byte[] content = kind == Kind.BYTES ? "bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8) : file;
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

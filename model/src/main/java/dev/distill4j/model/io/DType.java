package dev.distill4j.model.io;

import java.util.Locale;

/**
 * Element types of the safetensors format, named as in its header. Only the float types can hold model weights;
 * the integer types are read so a file that carries them (e.g. position ids) still opens.
 */
public enum DType {
    F64(8, true), F32(4, true), F16(2, true), BF16(2, true),
    I64(8, false), I32(4, false), I16(2, false), I8(1, false), U8(1, false), BOOL(1, false);

    private final int bytes;
    private final boolean floating;

    DType(int bytes, boolean floating) {
        this.bytes = bytes;
        this.floating = floating;
    }

    public int bytes() { return bytes; }

    public boolean isFloating() { return floating; }

    /** The {@code torch_dtype} string HF writes into config.json for this type. */
    public String torchName() {
        return switch (this) {
            case F64 -> "float64";
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            case I64 -> "int64";
            case I32 -> "int32";
            case I16 -> "int16";
            case I8 -> "int8";
            case U8 -> "uint8";
            case BOOL -> "bool";
        };
    }

    /** Parses a header dtype ("BF16") or a torch name ("bfloat16"); null when neither. */
    public static DType parse(String s) {
        if (s == null) return null;
        String u = s.toUpperCase(Locale.ROOT);
        for (DType t : values()) {
            if (t.name().equals(u) || t.torchName().equalsIgnoreCase(s)) return t;
        }
        return null;
    }
}

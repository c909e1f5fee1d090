"""A very long function (600 statements) and nesting 12 levels deep (loops, with, try,
if, while), at script level and inside methods."""
import contextlib


def very_long(seed):
    acc = seed
    log = []
    acc = (acc * 31 + 0) % 1000003
    if acc % 3 == 1:
        log.append(1)
    with contextlib.nullcontext():
        acc += 2
    for j3 in range(2):
        acc ^= j3
    try:
        acc -= 4
    finally:
        acc += 1
    # comment 5
    acc = abs(acc)
    acc = (acc * 31 + 6) % 1000003
    if acc % 3 == 1:
        log.append(7)
    with contextlib.nullcontext():
        acc += 8
    for j9 in range(2):
        acc ^= j9
    try:
        acc -= 10
    finally:
        acc += 1
    # comment 11
    acc = abs(acc)
    acc = (acc * 31 + 12) % 1000003
    if acc % 3 == 1:
        log.append(13)
    with contextlib.nullcontext():
        acc += 14
    for j15 in range(2):
        acc ^= j15
    try:
        acc -= 16
    finally:
        acc += 1
    # comment 17
    acc = abs(acc)
    acc = (acc * 31 + 18) % 1000003
    if acc % 3 == 1:
        log.append(19)
    with contextlib.nullcontext():
        acc += 20
    for j21 in range(2):
        acc ^= j21
    try:
        acc -= 22
    finally:
        acc += 1
    # comment 23
    acc = abs(acc)
    acc = (acc * 31 + 24) % 1000003
    if acc % 3 == 1:
        log.append(25)
    with contextlib.nullcontext():
        acc += 26
    for j27 in range(2):
        acc ^= j27
    try:
        acc -= 28
    finally:
        acc += 1
    # comment 29
    acc = abs(acc)
    acc = (acc * 31 + 30) % 1000003
    if acc % 3 == 1:
        log.append(31)
    with contextlib.nullcontext():
        acc += 32
    for j33 in range(2):
        acc ^= j33
    try:
        acc -= 34
    finally:
        acc += 1
    # comment 35
    acc = abs(acc)
    acc = (acc * 31 + 36) % 1000003
    if acc % 3 == 1:
        log.append(37)
    with contextlib.nullcontext():
        acc += 38
    for j39 in range(2):
        acc ^= j39
    try:
        acc -= 40
    finally:
        acc += 1
    # comment 41
    acc = abs(acc)
    acc = (acc * 31 + 42) % 1000003
    if acc % 3 == 1:
        log.append(43)
    with contextlib.nullcontext():
        acc += 44
    for j45 in range(2):
        acc ^= j45
    try:
        acc -= 46
    finally:
        acc += 1
    # comment 47
    acc = abs(acc)
    acc = (acc * 31 + 48) % 1000003
    if acc % 3 == 1:
        log.append(49)
    with contextlib.nullcontext():
        acc += 50
    for j51 in range(2):
        acc ^= j51
    try:
        acc -= 52
    finally:
        acc += 1
    # comment 53
    acc = abs(acc)
    acc = (acc * 31 + 54) % 1000003
    if acc % 3 == 1:
        log.append(55)
    with contextlib.nullcontext():
        acc += 56
    for j57 in range(2):
        acc ^= j57
    try:
        acc -= 58
    finally:
        acc += 1
    # comment 59
    acc = abs(acc)
    acc = (acc * 31 + 60) % 1000003
    if acc % 3 == 1:
        log.append(61)
    with contextlib.nullcontext():
        acc += 62
    for j63 in range(2):
        acc ^= j63
    try:
        acc -= 64
    finally:
        acc += 1
    # comment 65
    acc = abs(acc)
    acc = (acc * 31 + 66) % 1000003
    if acc % 3 == 1:
        log.append(67)
    with contextlib.nullcontext():
        acc += 68
    for j69 in range(2):
        acc ^= j69
    try:
        acc -= 70
    finally:
        acc += 1
    # comment 71
    acc = abs(acc)
    acc = (acc * 31 + 72) % 1000003
    if acc % 3 == 1:
        log.append(73)
    with contextlib.nullcontext():
        acc += 74
    for j75 in range(2):
        acc ^= j75
    try:
        acc -= 76
    finally:
        acc += 1
    # comment 77
    acc = abs(acc)
    acc = (acc * 31 + 78) % 1000003
    if acc % 3 == 1:
        log.append(79)
    with contextlib.nullcontext():
        acc += 80
    for j81 in range(2):
        acc ^= j81
    try:
        acc -= 82
    finally:
        acc += 1
    # comment 83
    acc = abs(acc)
    acc = (acc * 31 + 84) % 1000003
    if acc % 3 == 1:
        log.append(85)
    with contextlib.nullcontext():
        acc += 86
    for j87 in range(2):
        acc ^= j87
    try:
        acc -= 88
    finally:
        acc += 1
    # comment 89
    acc = abs(acc)
    acc = (acc * 31 + 90) % 1000003
    if acc % 3 == 1:
        log.append(91)
    with contextlib.nullcontext():
        acc += 92
    for j93 in range(2):
        acc ^= j93
    try:
        acc -= 94
    finally:
        acc += 1
    # comment 95
    acc = abs(acc)
    acc = (acc * 31 + 96) % 1000003
    if acc % 3 == 1:
        log.append(97)
    with contextlib.nullcontext():
        acc += 98
    for j99 in range(2):
        acc ^= j99
    try:
        acc -= 100
    finally:
        acc += 1
    # comment 101
    acc = abs(acc)
    acc = (acc * 31 + 102) % 1000003
    if acc % 3 == 1:
        log.append(103)
    with contextlib.nullcontext():
        acc += 104
    for j105 in range(2):
        acc ^= j105
    try:
        acc -= 106
    finally:
        acc += 1
    # comment 107
    acc = abs(acc)
    acc = (acc * 31 + 108) % 1000003
    if acc % 3 == 1:
        log.append(109)
    with contextlib.nullcontext():
        acc += 110
    for j111 in range(2):
        acc ^= j111
    try:
        acc -= 112
    finally:
        acc += 1
    # comment 113
    acc = abs(acc)
    acc = (acc * 31 + 114) % 1000003
    if acc % 3 == 1:
        log.append(115)
    with contextlib.nullcontext():
        acc += 116
    for j117 in range(2):
        acc ^= j117
    try:
        acc -= 118
    finally:
        acc += 1
    # comment 119
    acc = abs(acc)
    acc = (acc * 31 + 120) % 1000003
    if acc % 3 == 1:
        log.append(121)
    with contextlib.nullcontext():
        acc += 122
    for j123 in range(2):
        acc ^= j123
    try:
        acc -= 124
    finally:
        acc += 1
    # comment 125
    acc = abs(acc)
    acc = (acc * 31 + 126) % 1000003
    if acc % 3 == 1:
        log.append(127)
    with contextlib.nullcontext():
        acc += 128
    for j129 in range(2):
        acc ^= j129
    try:
        acc -= 130
    finally:
        acc += 1
    # comment 131
    acc = abs(acc)
    acc = (acc * 31 + 132) % 1000003
    if acc % 3 == 1:
        log.append(133)
    with contextlib.nullcontext():
        acc += 134
    for j135 in range(2):
        acc ^= j135
    try:
        acc -= 136
    finally:
        acc += 1
    # comment 137
    acc = abs(acc)
    acc = (acc * 31 + 138) % 1000003
    if acc % 3 == 1:
        log.append(139)
    with contextlib.nullcontext():
        acc += 140
    for j141 in range(2):
        acc ^= j141
    try:
        acc -= 142
    finally:
        acc += 1
    # comment 143
    acc = abs(acc)
    acc = (acc * 31 + 144) % 1000003
    if acc % 3 == 1:
        log.append(145)
    with contextlib.nullcontext():
        acc += 146
    for j147 in range(2):
        acc ^= j147
    try:
        acc -= 148
    finally:
        acc += 1
    # comment 149
    acc = abs(acc)
    acc = (acc * 31 + 150) % 1000003
    if acc % 3 == 1:
        log.append(151)
    with contextlib.nullcontext():
        acc += 152
    for j153 in range(2):
        acc ^= j153
    try:
        acc -= 154
    finally:
        acc += 1
    # comment 155
    acc = abs(acc)
    acc = (acc * 31 + 156) % 1000003
    if acc % 3 == 1:
        log.append(157)
    with contextlib.nullcontext():
        acc += 158
    for j159 in range(2):
        acc ^= j159
    try:
        acc -= 160
    finally:
        acc += 1
    # comment 161
    acc = abs(acc)
    acc = (acc * 31 + 162) % 1000003
    if acc % 3 == 1:
        log.append(163)
    with contextlib.nullcontext():
        acc += 164
    for j165 in range(2):
        acc ^= j165
    try:
        acc -= 166
    finally:
        acc += 1
    # comment 167
    acc = abs(acc)
    acc = (acc * 31 + 168) % 1000003
    if acc % 3 == 1:
        log.append(169)
    with contextlib.nullcontext():
        acc += 170
    for j171 in range(2):
        acc ^= j171
    try:
        acc -= 172
    finally:
        acc += 1
    # comment 173
    acc = abs(acc)
    acc = (acc * 31 + 174) % 1000003
    if acc % 3 == 1:
        log.append(175)
    with contextlib.nullcontext():
        acc += 176
    for j177 in range(2):
        acc ^= j177
    try:
        acc -= 178
    finally:
        acc += 1
    # comment 179
    acc = abs(acc)
    acc = (acc * 31 + 180) % 1000003
    if acc % 3 == 1:
        log.append(181)
    with contextlib.nullcontext():
        acc += 182
    for j183 in range(2):
        acc ^= j183
    try:
        acc -= 184
    finally:
        acc += 1
    # comment 185
    acc = abs(acc)
    acc = (acc * 31 + 186) % 1000003
    if acc % 3 == 1:
        log.append(187)
    with contextlib.nullcontext():
        acc += 188
    for j189 in range(2):
        acc ^= j189
    try:
        acc -= 190
    finally:
        acc += 1
    # comment 191
    acc = abs(acc)
    acc = (acc * 31 + 192) % 1000003
    if acc % 3 == 1:
        log.append(193)
    with contextlib.nullcontext():
        acc += 194
    for j195 in range(2):
        acc ^= j195
    try:
        acc -= 196
    finally:
        acc += 1
    # comment 197
    acc = abs(acc)
    acc = (acc * 31 + 198) % 1000003
    if acc % 3 == 1:
        log.append(199)
    with contextlib.nullcontext():
        acc += 200
    for j201 in range(2):
        acc ^= j201
    try:
        acc -= 202
    finally:
        acc += 1
    # comment 203
    acc = abs(acc)
    acc = (acc * 31 + 204) % 1000003
    if acc % 3 == 1:
        log.append(205)
    with contextlib.nullcontext():
        acc += 206
    for j207 in range(2):
        acc ^= j207
    try:
        acc -= 208
    finally:
        acc += 1
    # comment 209
    acc = abs(acc)
    acc = (acc * 31 + 210) % 1000003
    if acc % 3 == 1:
        log.append(211)
    with contextlib.nullcontext():
        acc += 212
    for j213 in range(2):
        acc ^= j213
    try:
        acc -= 214
    finally:
        acc += 1
    # comment 215
    acc = abs(acc)
    acc = (acc * 31 + 216) % 1000003
    if acc % 3 == 1:
        log.append(217)
    with contextlib.nullcontext():
        acc += 218
    for j219 in range(2):
        acc ^= j219
    try:
        acc -= 220
    finally:
        acc += 1
    # comment 221
    acc = abs(acc)
    acc = (acc * 31 + 222) % 1000003
    if acc % 3 == 1:
        log.append(223)
    with contextlib.nullcontext():
        acc += 224
    for j225 in range(2):
        acc ^= j225
    try:
        acc -= 226
    finally:
        acc += 1
    # comment 227
    acc = abs(acc)
    acc = (acc * 31 + 228) % 1000003
    if acc % 3 == 1:
        log.append(229)
    with contextlib.nullcontext():
        acc += 230
    for j231 in range(2):
        acc ^= j231
    try:
        acc -= 232
    finally:
        acc += 1
    # comment 233
    acc = abs(acc)
    acc = (acc * 31 + 234) % 1000003
    if acc % 3 == 1:
        log.append(235)
    with contextlib.nullcontext():
        acc += 236
    for j237 in range(2):
        acc ^= j237
    try:
        acc -= 238
    finally:
        acc += 1
    # comment 239
    acc = abs(acc)
    acc = (acc * 31 + 240) % 1000003
    if acc % 3 == 1:
        log.append(241)
    with contextlib.nullcontext():
        acc += 242
    for j243 in range(2):
        acc ^= j243
    try:
        acc -= 244
    finally:
        acc += 1
    # comment 245
    acc = abs(acc)
    acc = (acc * 31 + 246) % 1000003
    if acc % 3 == 1:
        log.append(247)
    with contextlib.nullcontext():
        acc += 248
    for j249 in range(2):
        acc ^= j249
    try:
        acc -= 250
    finally:
        acc += 1
    # comment 251
    acc = abs(acc)
    acc = (acc * 31 + 252) % 1000003
    if acc % 3 == 1:
        log.append(253)
    with contextlib.nullcontext():
        acc += 254
    for j255 in range(2):
        acc ^= j255
    try:
        acc -= 256
    finally:
        acc += 1
    # comment 257
    acc = abs(acc)
    acc = (acc * 31 + 258) % 1000003
    if acc % 3 == 1:
        log.append(259)
    with contextlib.nullcontext():
        acc += 260
    for j261 in range(2):
        acc ^= j261
    try:
        acc -= 262
    finally:
        acc += 1
    # comment 263
    acc = abs(acc)
    acc = (acc * 31 + 264) % 1000003
    if acc % 3 == 1:
        log.append(265)
    with contextlib.nullcontext():
        acc += 266
    for j267 in range(2):
        acc ^= j267
    try:
        acc -= 268
    finally:
        acc += 1
    # comment 269
    acc = abs(acc)
    acc = (acc * 31 + 270) % 1000003
    if acc % 3 == 1:
        log.append(271)
    with contextlib.nullcontext():
        acc += 272
    for j273 in range(2):
        acc ^= j273
    try:
        acc -= 274
    finally:
        acc += 1
    # comment 275
    acc = abs(acc)
    acc = (acc * 31 + 276) % 1000003
    if acc % 3 == 1:
        log.append(277)
    with contextlib.nullcontext():
        acc += 278
    for j279 in range(2):
        acc ^= j279
    try:
        acc -= 280
    finally:
        acc += 1
    # comment 281
    acc = abs(acc)
    acc = (acc * 31 + 282) % 1000003
    if acc % 3 == 1:
        log.append(283)
    with contextlib.nullcontext():
        acc += 284
    for j285 in range(2):
        acc ^= j285
    try:
        acc -= 286
    finally:
        acc += 1
    # comment 287
    acc = abs(acc)
    acc = (acc * 31 + 288) % 1000003
    if acc % 3 == 1:
        log.append(289)
    with contextlib.nullcontext():
        acc += 290
    for j291 in range(2):
        acc ^= j291
    try:
        acc -= 292
    finally:
        acc += 1
    # comment 293
    acc = abs(acc)
    acc = (acc * 31 + 294) % 1000003
    if acc % 3 == 1:
        log.append(295)
    with contextlib.nullcontext():
        acc += 296
    for j297 in range(2):
        acc ^= j297
    try:
        acc -= 298
    finally:
        acc += 1
    # comment 299
    acc = abs(acc)
    acc = (acc * 31 + 300) % 1000003
    if acc % 3 == 1:
        log.append(301)
    with contextlib.nullcontext():
        acc += 302
    for j303 in range(2):
        acc ^= j303
    try:
        acc -= 304
    finally:
        acc += 1
    # comment 305
    acc = abs(acc)
    acc = (acc * 31 + 306) % 1000003
    if acc % 3 == 1:
        log.append(307)
    with contextlib.nullcontext():
        acc += 308
    for j309 in range(2):
        acc ^= j309
    try:
        acc -= 310
    finally:
        acc += 1
    # comment 311
    acc = abs(acc)
    acc = (acc * 31 + 312) % 1000003
    if acc % 3 == 1:
        log.append(313)
    with contextlib.nullcontext():
        acc += 314
    for j315 in range(2):
        acc ^= j315
    try:
        acc -= 316
    finally:
        acc += 1
    # comment 317
    acc = abs(acc)
    acc = (acc * 31 + 318) % 1000003
    if acc % 3 == 1:
        log.append(319)
    with contextlib.nullcontext():
        acc += 320
    for j321 in range(2):
        acc ^= j321
    try:
        acc -= 322
    finally:
        acc += 1
    # comment 323
    acc = abs(acc)
    acc = (acc * 31 + 324) % 1000003
    if acc % 3 == 1:
        log.append(325)
    with contextlib.nullcontext():
        acc += 326
    for j327 in range(2):
        acc ^= j327
    try:
        acc -= 328
    finally:
        acc += 1
    # comment 329
    acc = abs(acc)
    acc = (acc * 31 + 330) % 1000003
    if acc % 3 == 1:
        log.append(331)
    with contextlib.nullcontext():
        acc += 332
    for j333 in range(2):
        acc ^= j333
    try:
        acc -= 334
    finally:
        acc += 1
    # comment 335
    acc = abs(acc)
    acc = (acc * 31 + 336) % 1000003
    if acc % 3 == 1:
        log.append(337)
    with contextlib.nullcontext():
        acc += 338
    for j339 in range(2):
        acc ^= j339
    try:
        acc -= 340
    finally:
        acc += 1
    # comment 341
    acc = abs(acc)
    acc = (acc * 31 + 342) % 1000003
    if acc % 3 == 1:
        log.append(343)
    with contextlib.nullcontext():
        acc += 344
    for j345 in range(2):
        acc ^= j345
    try:
        acc -= 346
    finally:
        acc += 1
    # comment 347
    acc = abs(acc)
    acc = (acc * 31 + 348) % 1000003
    if acc % 3 == 1:
        log.append(349)
    with contextlib.nullcontext():
        acc += 350
    for j351 in range(2):
        acc ^= j351
    try:
        acc -= 352
    finally:
        acc += 1
    # comment 353
    acc = abs(acc)
    acc = (acc * 31 + 354) % 1000003
    if acc % 3 == 1:
        log.append(355)
    with contextlib.nullcontext():
        acc += 356
    for j357 in range(2):
        acc ^= j357
    try:
        acc -= 358
    finally:
        acc += 1
    # comment 359
    acc = abs(acc)
    acc = (acc * 31 + 360) % 1000003
    if acc % 3 == 1:
        log.append(361)
    with contextlib.nullcontext():
        acc += 362
    for j363 in range(2):
        acc ^= j363
    try:
        acc -= 364
    finally:
        acc += 1
    # comment 365
    acc = abs(acc)
    acc = (acc * 31 + 366) % 1000003
    if acc % 3 == 1:
        log.append(367)
    with contextlib.nullcontext():
        acc += 368
    for j369 in range(2):
        acc ^= j369
    try:
        acc -= 370
    finally:
        acc += 1
    # comment 371
    acc = abs(acc)
    acc = (acc * 31 + 372) % 1000003
    if acc % 3 == 1:
        log.append(373)
    with contextlib.nullcontext():
        acc += 374
    for j375 in range(2):
        acc ^= j375
    try:
        acc -= 376
    finally:
        acc += 1
    # comment 377
    acc = abs(acc)
    acc = (acc * 31 + 378) % 1000003
    if acc % 3 == 1:
        log.append(379)
    with contextlib.nullcontext():
        acc += 380
    for j381 in range(2):
        acc ^= j381
    try:
        acc -= 382
    finally:
        acc += 1
    # comment 383
    acc = abs(acc)
    acc = (acc * 31 + 384) % 1000003
    if acc % 3 == 1:
        log.append(385)
    with contextlib.nullcontext():
        acc += 386
    for j387 in range(2):
        acc ^= j387
    try:
        acc -= 388
    finally:
        acc += 1
    # comment 389
    acc = abs(acc)
    acc = (acc * 31 + 390) % 1000003
    if acc % 3 == 1:
        log.append(391)
    with contextlib.nullcontext():
        acc += 392
    for j393 in range(2):
        acc ^= j393
    try:
        acc -= 394
    finally:
        acc += 1
    # comment 395
    acc = abs(acc)
    acc = (acc * 31 + 396) % 1000003
    if acc % 3 == 1:
        log.append(397)
    with contextlib.nullcontext():
        acc += 398
    for j399 in range(2):
        acc ^= j399
    try:
        acc -= 400
    finally:
        acc += 1
    # comment 401
    acc = abs(acc)
    acc = (acc * 31 + 402) % 1000003
    if acc % 3 == 1:
        log.append(403)
    with contextlib.nullcontext():
        acc += 404
    for j405 in range(2):
        acc ^= j405
    try:
        acc -= 406
    finally:
        acc += 1
    # comment 407
    acc = abs(acc)
    acc = (acc * 31 + 408) % 1000003
    if acc % 3 == 1:
        log.append(409)
    with contextlib.nullcontext():
        acc += 410
    for j411 in range(2):
        acc ^= j411
    try:
        acc -= 412
    finally:
        acc += 1
    # comment 413
    acc = abs(acc)
    acc = (acc * 31 + 414) % 1000003
    if acc % 3 == 1:
        log.append(415)
    with contextlib.nullcontext():
        acc += 416
    for j417 in range(2):
        acc ^= j417
    try:
        acc -= 418
    finally:
        acc += 1
    # comment 419
    acc = abs(acc)
    acc = (acc * 31 + 420) % 1000003
    if acc % 3 == 1:
        log.append(421)
    with contextlib.nullcontext():
        acc += 422
    for j423 in range(2):
        acc ^= j423
    try:
        acc -= 424
    finally:
        acc += 1
    # comment 425
    acc = abs(acc)
    acc = (acc * 31 + 426) % 1000003
    if acc % 3 == 1:
        log.append(427)
    with contextlib.nullcontext():
        acc += 428
    for j429 in range(2):
        acc ^= j429
    try:
        acc -= 430
    finally:
        acc += 1
    # comment 431
    acc = abs(acc)
    acc = (acc * 31 + 432) % 1000003
    if acc % 3 == 1:
        log.append(433)
    with contextlib.nullcontext():
        acc += 434
    for j435 in range(2):
        acc ^= j435
    try:
        acc -= 436
    finally:
        acc += 1
    # comment 437
    acc = abs(acc)
    acc = (acc * 31 + 438) % 1000003
    if acc % 3 == 1:
        log.append(439)
    with contextlib.nullcontext():
        acc += 440
    for j441 in range(2):
        acc ^= j441
    try:
        acc -= 442
    finally:
        acc += 1
    # comment 443
    acc = abs(acc)
    acc = (acc * 31 + 444) % 1000003
    if acc % 3 == 1:
        log.append(445)
    with contextlib.nullcontext():
        acc += 446
    for j447 in range(2):
        acc ^= j447
    try:
        acc -= 448
    finally:
        acc += 1
    # comment 449
    acc = abs(acc)
    acc = (acc * 31 + 450) % 1000003
    if acc % 3 == 1:
        log.append(451)
    with contextlib.nullcontext():
        acc += 452
    for j453 in range(2):
        acc ^= j453
    try:
        acc -= 454
    finally:
        acc += 1
    # comment 455
    acc = abs(acc)
    acc = (acc * 31 + 456) % 1000003
    if acc % 3 == 1:
        log.append(457)
    with contextlib.nullcontext():
        acc += 458
    for j459 in range(2):
        acc ^= j459
    try:
        acc -= 460
    finally:
        acc += 1
    # comment 461
    acc = abs(acc)
    acc = (acc * 31 + 462) % 1000003
    if acc % 3 == 1:
        log.append(463)
    with contextlib.nullcontext():
        acc += 464
    for j465 in range(2):
        acc ^= j465
    try:
        acc -= 466
    finally:
        acc += 1
    # comment 467
    acc = abs(acc)
    acc = (acc * 31 + 468) % 1000003
    if acc % 3 == 1:
        log.append(469)
    with contextlib.nullcontext():
        acc += 470
    for j471 in range(2):
        acc ^= j471
    try:
        acc -= 472
    finally:
        acc += 1
    # comment 473
    acc = abs(acc)
    acc = (acc * 31 + 474) % 1000003
    if acc % 3 == 1:
        log.append(475)
    with contextlib.nullcontext():
        acc += 476
    for j477 in range(2):
        acc ^= j477
    try:
        acc -= 478
    finally:
        acc += 1
    # comment 479
    acc = abs(acc)
    acc = (acc * 31 + 480) % 1000003
    if acc % 3 == 1:
        log.append(481)
    with contextlib.nullcontext():
        acc += 482
    for j483 in range(2):
        acc ^= j483
    try:
        acc -= 484
    finally:
        acc += 1
    # comment 485
    acc = abs(acc)
    acc = (acc * 31 + 486) % 1000003
    if acc % 3 == 1:
        log.append(487)
    with contextlib.nullcontext():
        acc += 488
    for j489 in range(2):
        acc ^= j489
    try:
        acc -= 490
    finally:
        acc += 1
    # comment 491
    acc = abs(acc)
    acc = (acc * 31 + 492) % 1000003
    if acc % 3 == 1:
        log.append(493)
    with contextlib.nullcontext():
        acc += 494
    for j495 in range(2):
        acc ^= j495
    try:
        acc -= 496
    finally:
        acc += 1
    # comment 497
    acc = abs(acc)
    acc = (acc * 31 + 498) % 1000003
    if acc % 3 == 1:
        log.append(499)
    with contextlib.nullcontext():
        acc += 500
    for j501 in range(2):
        acc ^= j501
    try:
        acc -= 502
    finally:
        acc += 1
    # comment 503
    acc = abs(acc)
    acc = (acc * 31 + 504) % 1000003
    if acc % 3 == 1:
        log.append(505)
    with contextlib.nullcontext():
        acc += 506
    for j507 in range(2):
        acc ^= j507
    try:
        acc -= 508
    finally:
        acc += 1
    # comment 509
    acc = abs(acc)
    acc = (acc * 31 + 510) % 1000003
    if acc % 3 == 1:
        log.append(511)
    with contextlib.nullcontext():
        acc += 512
    for j513 in range(2):
        acc ^= j513
    try:
        acc -= 514
    finally:
        acc += 1
    # comment 515
    acc = abs(acc)
    acc = (acc * 31 + 516) % 1000003
    if acc % 3 == 1:
        log.append(517)
    with contextlib.nullcontext():
        acc += 518
    for j519 in range(2):
        acc ^= j519
    try:
        acc -= 520
    finally:
        acc += 1
    # comment 521
    acc = abs(acc)
    acc = (acc * 31 + 522) % 1000003
    if acc % 3 == 1:
        log.append(523)
    with contextlib.nullcontext():
        acc += 524
    for j525 in range(2):
        acc ^= j525
    try:
        acc -= 526
    finally:
        acc += 1
    # comment 527
    acc = abs(acc)
    acc = (acc * 31 + 528) % 1000003
    if acc % 3 == 1:
        log.append(529)
    with contextlib.nullcontext():
        acc += 530
    for j531 in range(2):
        acc ^= j531
    try:
        acc -= 532
    finally:
        acc += 1
    # comment 533
    acc = abs(acc)
    acc = (acc * 31 + 534) % 1000003
    if acc % 3 == 1:
        log.append(535)
    with contextlib.nullcontext():
        acc += 536
    for j537 in range(2):
        acc ^= j537
    try:
        acc -= 538
    finally:
        acc += 1
    # comment 539
    acc = abs(acc)
    acc = (acc * 31 + 540) % 1000003
    if acc % 3 == 1:
        log.append(541)
    with contextlib.nullcontext():
        acc += 542
    for j543 in range(2):
        acc ^= j543
    try:
        acc -= 544
    finally:
        acc += 1
    # comment 545
    acc = abs(acc)
    acc = (acc * 31 + 546) % 1000003
    if acc % 3 == 1:
        log.append(547)
    with contextlib.nullcontext():
        acc += 548
    for j549 in range(2):
        acc ^= j549
    try:
        acc -= 550
    finally:
        acc += 1
    # comment 551
    acc = abs(acc)
    acc = (acc * 31 + 552) % 1000003
    if acc % 3 == 1:
        log.append(553)
    with contextlib.nullcontext():
        acc += 554
    for j555 in range(2):
        acc ^= j555
    try:
        acc -= 556
    finally:
        acc += 1
    # comment 557
    acc = abs(acc)
    acc = (acc * 31 + 558) % 1000003
    if acc % 3 == 1:
        log.append(559)
    with contextlib.nullcontext():
        acc += 560
    for j561 in range(2):
        acc ^= j561
    try:
        acc -= 562
    finally:
        acc += 1
    # comment 563
    acc = abs(acc)
    acc = (acc * 31 + 564) % 1000003
    if acc % 3 == 1:
        log.append(565)
    with contextlib.nullcontext():
        acc += 566
    for j567 in range(2):
        acc ^= j567
    try:
        acc -= 568
    finally:
        acc += 1
    # comment 569
    acc = abs(acc)
    acc = (acc * 31 + 570) % 1000003
    if acc % 3 == 1:
        log.append(571)
    with contextlib.nullcontext():
        acc += 572
    for j573 in range(2):
        acc ^= j573
    try:
        acc -= 574
    finally:
        acc += 1
    # comment 575
    acc = abs(acc)
    acc = (acc * 31 + 576) % 1000003
    if acc % 3 == 1:
        log.append(577)
    with contextlib.nullcontext():
        acc += 578
    for j579 in range(2):
        acc ^= j579
    try:
        acc -= 580
    finally:
        acc += 1
    # comment 581
    acc = abs(acc)
    acc = (acc * 31 + 582) % 1000003
    if acc % 3 == 1:
        log.append(583)
    with contextlib.nullcontext():
        acc += 584
    for j585 in range(2):
        acc ^= j585
    try:
        acc -= 586
    finally:
        acc += 1
    # comment 587
    acc = abs(acc)
    acc = (acc * 31 + 588) % 1000003
    if acc % 3 == 1:
        log.append(589)
    with contextlib.nullcontext():
        acc += 590
    for j591 in range(2):
        acc ^= j591
    try:
        acc -= 592
    finally:
        acc += 1
    # comment 593
    acc = abs(acc)
    acc = (acc * 31 + 594) % 1000003
    if acc % 3 == 1:
        log.append(595)
    with contextlib.nullcontext():
        acc += 596
    for j597 in range(2):
        acc ^= j597
    try:
        acc -= 598
    finally:
        acc += 1
    # comment 599
    acc = abs(acc)
    return acc, len(log), log[-5:]

def deep(n):
    log = []
    for a in range(n):
        with contextlib.nullcontext():
            for b in range(n):
                try:
                    if (a + b) % 2 == 0:
                        while True:
                            with contextlib.nullcontext():
                                for c in range(n):
                                    try:
                                        if c == 1:
                                            with contextlib.nullcontext():
                                                for d in range(n):
                                                    if d == 1:
                                                        continue
                                                    if a == n - 1 and b == n - 1:
                                                        return log
                                                    log.append((a, b, c, d))
                                            break
                                    finally:
                                        log.append("f")
                            break
                    else:
                        continue
                finally:
                    log.append("outer f")
    return log


class Nested:
    def method(self, depth):
        result = []
        with contextlib.nullcontext():
            with contextlib.nullcontext():
                with contextlib.nullcontext():
                    with contextlib.nullcontext():
                        with contextlib.nullcontext():
                            with contextlib.nullcontext():
                                with contextlib.nullcontext():
                                    with contextlib.nullcontext():
                                        with contextlib.nullcontext():
                                            with contextlib.nullcontext():
                                                with contextlib.nullcontext():
                                                    for i in range(depth):
                                                        if i == 2:
                                                            return result
                                                        result.append(i)
        return "unreached"


print(very_long(7))
print(deep(3))
print(Nested().method(5))
for x in range(2):
    if x >= 0:
        with contextlib.nullcontext():
            for y in range(2):
                try:
                    while y < 2:
                        with contextlib.nullcontext():
                            if y == 1:
                                for z in range(3):
                                    with contextlib.nullcontext():
                                        try:
                                            if z == 2:
                                                break
                                            print("deep script", x, y, z)
                                        finally:
                                            print("script finally", z)
                            y += 1
                finally:
                    print("y done", y)

"""Word lists used to build Fivetran-style ``word_word`` identifiers and names."""

from __future__ import annotations

_ADJECTIVES = """
able absent acid active adept agile airy alert alive amber ample ancient angry annual
antique anxious apt arctic arid atomic august austere autumn avid awake aware azure
basic bitter blank bleak blind blond bold bony bored bouncy brave brief bright brisk
broad bronze brown bumpy busy calm candid capable careful casual cheap cheerful chilly
civic civil clean clear clever close cloudy coarse cold comic common cool copper cosmic
cozy crisp cubic curly curved cute daily damp dapper daring dark dear decent deep dense
direct dizzy double dreamy dry dual dusty eager early earnest easy elastic elder electric
elegant empty endless epic equal even exact exotic faint fair famous fancy fast fierce
final fine firm first flat fluent fond formal frank free fresh friendly frozen full funny
fuzzy gentle giant glad global golden good grand grassy grave gray great green grim
hairy handy happy hardy harsh hasty heavy hidden high hollow honest huge humble hungry
icy ideal idle inner ironic itchy jolly jumpy just keen kind large lasting late lazy
lean legal level light likely linear liquid little live lively local lofty lone long
loose loud loyal lucky lunar lush magic major mellow merry mild minor misty modern modest
moist moral muddy murky mute narrow native neat nervous new nimble noble normal novel
oblong odd oily olive open optimal oral orange ornate outer oval pale paper partial
patient plain plastic pleasant plucky plush polar polite poor prime private proper proud
pseudo pure quick quiet rapid rare raw ready real regal rich rigid ripe robust rocky
rosy rough round royal rural rusty sacred safe salty sandy savvy scarce secret serene
shallow sharp shiny short shy silent silky silver simple sleek slim slow small smart
smooth snowy social soft solar solid sonic sour spare spicy square stable steady steep
stern stiff still stout strict strong subtle sunny super sweet swift tall tame tart
tender tepid thick thin tidy tiny topaz tough tranquil true twin ultra unique upper
urban usual utmost vague valid vast velvet vital vivid warm wary weekly wide wild windy
wise witty wooden woolly young zany zealous zesty
"""

_NOUNS = """
abacus acorn adapter agenda alder alloy almond anchor angle anvil apex apple apron arbor
arch archer arena armor arrow atlas atom attic aurora avenue badge bagel ballad bamboo
banjo banner barley barrel basin basket beacon beaker beetle bell bench berry bison
blade blanket blossom boat bonnet border bottle boulder bramble branch breeze brick bridge
brook broom bucket buckle bugle bundle butter button cabin cable cactus canal candle
canoe canyon canvas captain carbon cargo carpet carrot castle cedar cellar chalk channel
charm cherry chisel cider cinder circle citadel clover cobalt comet compass copper coral
cotton cradle crane crater crayon creek cricket crown crystal cube cupola cymbal dahlia
daisy delta desert dial diamond dinghy dock dolphin domain donkey dragon drum dune eagle
easel echo ember emerald engine falcon feather fender fern ferry fiddle fjord flame
flask fleet flint forest forge fossil fountain fox galaxy garden garnet gazebo geyser
glacier glider goblet gong granite grove guitar gull hammer harbor harp hatchet haven
hazel helmet heron hill hive hollow horizon hornet igloo island ivory jacket jade jaguar
jasmine jetty jewel journal kayak kernel kettle kiln kite koala ladder lagoon lantern
larch laurel lava ledger lemon lens lily linen lion lotus lynx magnet mango maple marble
meadow mesa meteor mill mirror mitten molecule monsoon mosaic moss motor mountain mural
nectar needle nest nickel nova oak oasis ocean olive onyx orbit orchard otter owl paddle
pagoda palette panther parcel pebble pelican pepper piano pier pigeon pillar pine planet
plaza plume pocket pond poplar portal prairie prism pulsar quarry quartz quill radar
raven reef ridge ripple river robin rocket rose saddle sage sail salmon sapphire satchel
scarab schooner scroll sequoia shadow shell shore signal silo sketch sled slope sparrow
sphere spire spruce squall star steeple stone storm stream summit swan sycamore tablet
tangle teapot temple thicket thistle thunder tiger timber torch tower trail tulip tundra
turret valley vapor velvet venture vessel village violet volcano wagon walnut walrus
wave willow window wizard yacht yarrow zenith zephyr
"""

ADJECTIVES: tuple[str, ...] = tuple(sorted(set(_ADJECTIVES.split())))
NOUNS: tuple[str, ...] = tuple(sorted(set(_NOUNS.split())))

_GIVEN = """Ada Alan Alice Amara Ana Ben Carla Chen Chloe Daniel Dara Diego Elena Emeka Eva Farah
    Felix Grace Hana Hugo Ines Ivan Jade Jonas Julia Kai Kenji Lara Leo Lina Lucas Maya Mei
    Mila Nadia Nina Noah Omar Oscar Paula Priya Quinn Rafael Rosa Sam Sara Sofia Tariq Theo
    Uma Vera Victor Wei Yara Yusuf Zoe"""

_FAMILY = """Abe Adams Alvarez Bauer Becker Brown Chen Costa Diaz Dubois Eriksen Evans Fischer
    Garcia Gomez Green Hansen Hill Ito Jensen Kim Klein Kowalski Lee Lopez Martin Meyer
    Moreau Murphy Nakamura Novak Okafor Olsen Patel Perez Rossi Santos Schmidt Silva Singh
    Smith Tanaka Taylor Torres Tran Walker Wang White Wilson Young Zhang"""

GIVEN_NAMES: tuple[str, ...] = tuple(_GIVEN.split())
FAMILY_NAMES: tuple[str, ...] = tuple(_FAMILY.split())

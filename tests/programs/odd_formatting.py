# Formatting black would change, comments after the last clause of compound statements:
# the vaccinated program must run the same (issue 10 items 9 and 10).
import contextlib,sys
class Acc :  #acc
    'an accumulator'
    kind='sum'
    if sys.version_info>=(3,) :  #py3
        def add(self,xs) :
            total=0;
            for x in xs :  #each
                if x%3==0 :
                    total+=x ; continue
                elif x%3==1:
                    total-=1
                #after the chain
                with contextlib.nullcontext() :
                    total+=x*2;  #doubled
                    if total>40: break
                # after the with
            else :
                total+=1000
            return total
    else :
        pass
def run(n) :
    out=[]
    for i in range(n) :
        try :
            out.append( Acc().add(range(i)) );
        except  ValueError :
            pass
        finally :
            out.append( 'f%d'%i )  #fin
        #after the try
    return out
for k in (3,6,9) :
    print( run(k) )
    if k==6 :
        print('six')
    elif k==9 :
        print('nine')
    #after the script chain

print('done') ;
